"""The staff handoff inbox: sign-in, the queue and ticket views, ticket actions, CSV
export, one module each on one blueprint ("inbox", under /inbox).

Every form posts a CSRF token (Flask-WTF's CSRFProtect covers the whole blueprint);
every view of a ticket and every change goes into the audit log.
"""

from webhook.inbox import actions, export, signin, views  # noqa: F401  (they register routes)
from webhook.inbox.blueprint import bp
from webhook.inbox.export import _cell  # noqa: F401  (webhook.suppressions uses it)

__all__ = ["bp"]
