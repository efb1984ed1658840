"""Latency at a fixed request rate (open loop), as a user population sending that rate would see it.

wrk keeps 50 connections busy, so its latency is 50 / throughput by Little's law: queueing, not
page time. To check "p95 under 300 ms at the target rate", this sends requests on a fixed
schedule (rate per second, whatever the server does) from a pool of keep-alive connections and
measures each from its scheduled start, so a slow server cannot hide its backlog
(no coordinated omission).
"""

import http.client
import queue
import threading
import time
from dataclasses import dataclass


@dataclass
class Result:
    rate: float
    sent: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(*, port: int, path: str, sessions: list[tuple[str, str]], rate: float, duration: float, workers: int = 50):
    """Send `rate` requests per second for `duration` seconds; latencies measured from the schedule."""
    jobs: queue.Queue = queue.Queue()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            job = jobs.get()
            if job is None:
                return
            scheduled, cookie, client = job
            try:
                connection.request("GET", path.replace("{client}", client), headers={"Cookie": cookie})
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            elapsed = time.monotonic() - scheduled
            with lock:
                latencies.append(elapsed * 1000)
                if not ok:
                    errors[0] += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    start = time.monotonic()
    count = int(rate * duration)
    for i in range(count):
        scheduled = start + i / rate
        pause = scheduled - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        cookie, client = sessions[i % len(sessions)]
        jobs.put((scheduled, cookie, client))
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        thread.join(timeout=60)
    return Result(
        rate=rate,
        sent=count,
        errors=errors[0],
        p50_ms=_percentile(latencies, 0.50),
        p95_ms=_percentile(latencies, 0.95),
        p99_ms=_percentile(latencies, 0.99),
    )
