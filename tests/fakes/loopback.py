"""A threaded server on a free loopback port: the lifecycle the test fakes share (HTTP by
default; the SMTP stand-in brings its own TCP server)."""

from __future__ import annotations

import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackServer:
    """Subclasses provide `_handler()` (or `_make_server()`); `start()` / `stop()` run and
    end the server."""

    scheme = "http"

    def __init__(self) -> None:
        self._server = self._make_server()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _make_server(self) -> socketserver.BaseServer:
        return ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
