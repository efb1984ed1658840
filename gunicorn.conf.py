"""gunicorn settings: sized from the machine, overridable by env (see README)."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Requests mostly wait on PostgreSQL: a few workers per core with threads serve I/O well.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5
# Workers are forked from a master that has already imported Django, so starting one costs
# milliseconds instead of a second of imports; recycling (a guard against slow leaks) is rare,
# because every restart briefly leaves the other workers to carry the load.
preload_app = True
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 100_000))
max_requests_jitter = max_requests // 10
# An empty GUNICORN_ACCESSLOG turns the access log off (benchmarks).
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
