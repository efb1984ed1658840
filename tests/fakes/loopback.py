"""What every loopback fake of an outside service shares: a threaded HTTP server on 127.0.0.1 (a random
port unless given), stop/start on the same port, and a plan of faults for the next requests.

A fake subclasses `LoopbackFake`, names its request handler class in `handler` (the handler finds the
fake as `self.owner`), and asks `_next_action()` per request: ("ok", None), ("status", 503),
("hang", seconds) — wait on `_release` that long — or ("drop", value).
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps test output quiet (no access log on stderr)."""

    def log_message(self, format, *args):
        pass


class LoopbackFake:
    handler: type  # a BaseHTTPRequestHandler subclass
    name = "fake"

    def __init__(self, *, port: int = 0):
        self.port = port
        self.requests: list[dict] = []  # every request that reached the handler, accepted or not
        self._plan: list[tuple[str, object]] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        handler = type(f"{type(self).__name__}Handler", (self.handler,), {"owner": self})
        server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._release.clear()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=self.name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the port: clients now get 'connection refused' until start() again."""
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def fail_next(self, status: int, *, times: int = 1) -> None:
        """Answer the next `times` requests with this HTTP error status, changing nothing."""
        with self._lock:
            self._plan += [("status", status)] * times

    def hang_next(self, *, seconds: float, times: int = 1) -> None:
        """Answer the next request(s) only after `seconds` (longer than the client waits)."""
        with self._lock:
            self._plan += [("hang", seconds)] * times

    def _next_action(self):
        with self._lock:
            return self._plan.pop(0) if self._plan else ("ok", None)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
