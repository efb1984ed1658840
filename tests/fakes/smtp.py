"""A real SMTP server on loopback (aiosmtpd) that records what it receives.

smtp = FakeSMTP().start()
settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
smtp.fail_next(451, times=1)   # answer the next DATA with a temporary error
smtp.stop(); smtp.start()      # refused connections in between, same port after
smtp.messages                  # email.message.EmailMessage objects, with .envelope
"""

import asyncio
import socket
import threading
import time
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Handler:
    def __init__(self, owner: "FakeSMTP"):
        self.owner = owner

    async def handle_DATA(self, server, session, envelope):
        owner = self.owner
        with owner._lock:
            reply = owner._plan.pop(0) if owner._plan else None
        if reply is not None:
            return reply
        message = message_from_bytes(envelope.content, policy=policy.default)
        message.envelope = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos)}
        owner.messages.append(message)
        if owner.hang_after_data:
            await asyncio.sleep(owner.hang_after_data)
        return "250 2.0.0 Message accepted for delivery"


class FakeSMTP:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.messages: list = []
        # Seconds to wait after taking a message before answering (the client times out first).
        self.hang_after_data = 0.0
        self._plan: list[str] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> "FakeSMTP":
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, ready_timeout=10)
        self._controller.start()
        return self

    def stop(self) -> None:
        """Close the port: clients now get 'connection refused' until start() again."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def fail_next(self, code: int = 451, *, times: int = 1) -> None:
        """Answer the next `times` DATA commands with this SMTP error instead of taking the message."""
        text = "4.3.0 Try again later" if code < 500 else "5.7.1 Message rejected"
        with self._lock:
            self._plan += [f"{code} {text}"] * times

    def wait_for_messages(self, count: int, *, timeout: float = 30) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return list(self.messages)
            time.sleep(0.05)
        raise AssertionError(
            f"expected {count} e-mails at the fake SMTP server within {timeout}s, got {len(self.messages)}"
        )

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
