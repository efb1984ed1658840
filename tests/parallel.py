"""Run work in threads released at the same moment, each with its own database connection."""

import threading

from django.db import connection


def in_parallel(count: int, work) -> list:
    """Run `work(n)` in `count` threads released at once; return each outcome (a value or the exception)."""
    barrier = threading.Barrier(count, timeout=30)
    outcomes = [None] * count

    def run(n):
        try:
            barrier.wait()
            outcomes[n] = work(n)
        except Exception as exc:  # the outcome under test
            outcomes[n] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes
