"""The staff handoff inbox: sign-in, the queue and ticket views, ticket actions, CSV
export, one module each on one blueprint ("inbox", under /inbox).

Every form posts a CSRF token (Flask-WTF's CSRFProtect covers the whole blueprint);
every view of a ticket and every change goes into the audit log.
"""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from webhook.auth import StaffPrincipal, login_manager

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
bp.record_once(lambda setup: login_manager.init_app(setup.app))


def me() -> StaffPrincipal:
    return current_user  # type: ignore[return-value]


# The views register themselves on `bp`; they import it from here, so they come last.
from webhook.inbox import actions, export, signin, views  # noqa: E402, F401
from webhook.inbox.export import _cell  # noqa: E402, F401  (webhook.suppressions uses it)
