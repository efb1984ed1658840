"""A private redis-server on a random loopback port, for tests that break the broker.

Fault tests must never stop or pause the shared Redis on 6379; this one belongs to the test:

    redis = PrivateRedis(tmp_path).start()
    redis.url          # redis://127.0.0.1:PORT/0
    redis.stop(); redis.start()     # down, then up again on the same port
    redis.pause(); redis.resume()   # hung (SIGSTOP): connections open, nothing answers
"""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis as redis_py


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    def __init__(self, workdir: Path, port: int | None = None, binary: str = "redis-server"):
        self.workdir = Path(workdir)
        self.port = port or _free_port()
        self.binary = binary
        self.process: subprocess.Popen | None = None
        self.paused = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, timeout: float = 10) -> "PrivateRedis":
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / f"redis-{self.port}.log", "ab")  # noqa: SIM115 (kept for the process's life)
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--daemonize",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        client = redis_py.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            while True:
                try:
                    if client.ping():
                        return self
                except redis_py.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"redis-server on port {self.port} did not start") from None
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is None:
            return
        if self.paused:
            self.resume()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def pause(self) -> None:
        """SIGSTOP: the port still accepts connections, but nothing is ever answered."""
        os.kill(self.process.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)
        self.paused = False

    def client(self) -> redis_py.Redis:
        return redis_py.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=2)
