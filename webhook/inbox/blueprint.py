"""The inbox blueprint and the signed-in staff member, shared by its view modules (which
import this, not the package, so the package's imports run one way)."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from webhook.auth import StaffPrincipal, login_manager

bp = Blueprint("inbox", "webhook.inbox", url_prefix="/inbox")
bp.record_once(lambda setup: login_manager.init_app(setup.app))


def me() -> StaffPrincipal:
    return current_user  # type: ignore[return-value]
