"""A real Celery worker in a subprocess, against a given broker and the test database.

The worker is the production code path: `celery -A portal worker`, its own Django setup, its
own database connection. It must see the data the test committed, so the test needs
`transactional_db` and the worker gets the test database's URL.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[2]


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database this process is using now (the test database under pytest)."""
    engine = settings_dict["ENGINE"]
    name = str(settings_dict["NAME"])
    if engine.endswith("sqlite3"):
        return f"sqlite:///{Path(name).resolve()}"
    if engine.endswith("postgresql"):
        user = quote(settings_dict.get("USER") or "", safe="")
        password = quote(settings_dict.get("PASSWORD") or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = settings_dict.get("PORT") or 5432
        return f"postgres://{auth}{host}:{port}/{quote(name, safe='')}"
    raise ValueError(f"No URL form for database engine {engine}")


class CeleryWorker:
    def __init__(self, *, env: dict[str, str], logfile: Path, queues: str = "celery", include: str = ""):
        self.env = env
        self.logfile = Path(logfile)
        self.queues = queues
        # Extra modules the worker imports at start (`celery worker --include`), e.g. a test's slow hook.
        self.include = include
        self.name = f"test-{uuid.uuid4().hex[:8]}@%h"
        self.process: subprocess.Popen | None = None

    def start(self, *, timeout: float = 30) -> "CeleryWorker":
        celery = Path(sys.executable).with_name("celery")
        env = {**os.environ, **self.env}
        with open(self.logfile, "ab") as log:
            self.process = subprocess.Popen(
                [
                    str(celery),
                    "-A",
                    "portal",
                    "worker",
                    "--pool=solo",
                    "-Q",
                    self.queues,
                    "-n",
                    self.name,
                    "--without-heartbeat",
                    "--without-mingle",
                    "--without-gossip",
                    "--loglevel=INFO",
                    *(["--include", self.include] if self.include else []),
                ],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log():
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Celery worker did not become ready within {timeout}s:\n{self.log()[-4000:]}")

    def log(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        """SIGKILL, as the kernel's OOM killer or a lost machine: no warm shutdown, no ack, nothing cleaned up."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)
        self.process = None

    def stop(self, *, timeout: float = 15) -> None:
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        self.process.send_signal(signal.SIGTERM)  # warm shutdown: finish the task at hand
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)
        self.process = None
