"""gunicorn's access log without residents' identifiers.

A conversation id in a path (/api/chat/<id>/messages) is the key to that resident's chat
for as long as it is kept, and query strings carry phone numbers (/dev/phone/messages) and
cursors: the access log keeps the route, the status and the timing, not those.
gunicorn.conf.py (read by gunicorn from the project directory) selects this logger.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

_ID = re.compile(r"(?<=/)[0-9a-f]{32}(?=/|$)")


def redact_path(path: str) -> str:
    """'/api/chat/<32 hex>/messages?after=3' -> '/api/chat/:id/messages'."""
    return _ID.sub(":id", path.split("?", 1)[0])


class RedactingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        path = redact_path(environ.get("RAW_URI") or environ.get("PATH_INFO") or "")
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {path} {environ.get('SERVER_PROTOCOL')}"
        atoms["U"] = redact_path(environ.get("PATH_INFO") or "")
        atoms["q"] = ""
        atoms["f"] = redact_path(str(atoms.get("f", "-")))
        # Headers and environ as atoms are never in our format; drop them all the same.
        return {k: v for k, v in atoms.items() if not k.startswith("{")}
