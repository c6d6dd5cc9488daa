"""A child for the runner's tests shaped like Sanic and gunicorn: a main process that
forks a worker, and the worker holds the port. SIGTERM to the main stops the worker;
SIGKILL to the main leaves the worker orphaned, holding the port (the issue-10 case).

python -m tests.fakes.forking_server PORT
"""

from __future__ import annotations

import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = str(os.getpid()).encode()  # the worker's pid, so tests can find it
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def main(port: int) -> None:
    HTTPServer.allow_reuse_address = True
    server = HTTPServer(("127.0.0.1", port), Health)
    worker = os.fork()
    if worker == 0:
        server.serve_forever()
        return
    server.server_close()  # only the worker holds the port

    def stop(signum: int, _frame: object) -> None:
        os.kill(worker, signal.SIGTERM)
        os.waitpid(worker, 0)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    os.waitpid(worker, 0)


if __name__ == "__main__":
    main(int(sys.argv[1]))
