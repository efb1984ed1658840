"""A loopback stand-in for a shop's server answering bnpl's order confirmation requests (bnpl/instant.py).

server = MerchantServer().start()
merchant.confirmation_url = server.url
server.decide("confirm", merchant_order_id="SHOP-1")   # every answer from now on (the default: confirm)
server.decide("decline", reason="Out of stock")
server.fail_next(500)                                    # the next request gets HTTP 500
server.hang_next(seconds=2)                              # the next request is answered too late
server.garble_next(b"<html>oops</html>")                 # the next request gets 200 with this body
server.requests                                          # [{"path", "headers", "body"}, …]
server.stop()
"""

import json

from .loopback import LoopbackFake, QuietHandler


class _Handler(QuietHandler):
    owner: "MerchantServer"

    def do_POST(self):
        fake = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        with fake._lock:
            fake.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
        kind, value = fake._next_action()
        status, answer = 200, json.dumps(fake.decision).encode()
        if kind == "hang":
            fake._release.wait(value)
        elif kind == "status":
            status, answer = value, b'{"error": "internal"}'
        elif kind == "garble":
            answer = value
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except OSError:
            pass  # the client gave up waiting (hang_next)


class MerchantServer(LoopbackFake):
    name = "fake-merchant-server"
    handler = _Handler

    def __init__(self, *, port: int = 0):
        super().__init__(port=port)
        self.decision: dict = {"decision": "confirm"}

    @property
    def url(self) -> str:
        return f"{self.base_url}/partnerzone/confirm"

    def decide(self, decision: str, **fields) -> None:
        """Answer every following request 200 with `{"decision": decision, **fields}`."""
        with self._lock:
            self.decision = {"decision": decision, **fields}

    def garble_next(self, body: bytes, *, times: int = 1) -> None:
        """Answer the next request(s) 200 with this body instead of a decision."""
        with self._lock:
            self._plan += [("garble", body)] * times

    def bodies(self) -> list[dict]:
        return [json.loads(request["body"]) for request in self.requests]
