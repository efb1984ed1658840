"""A loopback receiver for merchant webhooks: records every request and answers as told.

receiver = WebhookReceiver().start()
merchant.webhook_url = receiver.url
receiver.answer(500, times=2)      # the next two requests get 500, then 200 again
receiver.hang(seconds=2, times=1)  # the next request waits 2 s before answering
receiver.requests                  # [ReceivedRequest(path, headers, body), …]
receiver.stop()
"""

import threading
import time
from dataclasses import dataclass
from http.server import ThreadingHTTPServer

from .loopback import QuietHandler


@dataclass
class ReceivedRequest:
    path: str
    headers: dict
    body: bytes


class WebhookReceiver:
    def __init__(self):
        self.requests: list[ReceivedRequest] = []
        self._plan: list[tuple[int, float]] = []  # (status, delay) for the next requests
        self._lock = threading.Lock()
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(ReceivedRequest(self.path, dict(self.headers.items()), body))
                    status, delay = receiver._plan.pop(0) if receiver._plan else (200, 0.0)
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the client gave up waiting

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def start(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, status: int, *, times: int = 1) -> None:
        with self._lock:
            self._plan.extend([(status, 0.0)] * times)

    def hang(self, *, seconds: float, times: int = 1) -> None:
        with self._lock:
            self._plan.extend([(200, seconds)] * times)
