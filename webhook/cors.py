"""Cross-origin access for the chat widget.

The widget is one <script> tag on the landlord's own site, so its calls to /api/chat come
from another origin. Only the origins in WIDGET_ALLOWED_ORIGINS (comma-separated; by
default the organisation's website) may call the chat API from a browser; the inbox and
every other route stay same-origin. JSON posts need a preflight, so a page on any other
origin cannot post chat messages in a resident's name.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from flask import Flask, Response, request

CHAT_API_PREFIX = "/api/chat"


def _origin_of(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def allowed_origins(org_website: str | None) -> frozenset[str]:
    configured = os.environ.get("WIDGET_ALLOWED_ORIGINS")
    urls = configured.split(",") if configured is not None else [org_website or ""]
    return frozenset(o for o in map(_origin_of, urls) if o)


def init_app(app: Flask, org_website: str | None) -> None:
    origins = allowed_origins(org_website)

    @app.after_request
    def add_cors_headers(response: Response) -> Response:
        if not request.path.startswith(CHAT_API_PREFIX):
            return response
        response.vary.add("Origin")
        origin = request.headers.get("Origin", "")
        if origin in origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
        return response
