"""Loaded with `-p tests.xdist_env` (see the Makefile) before Django's settings are: each pytest-xdist
worker gets a Redis database of its own, since tests clear the cache between them and two workers on
one database would clear each other's. (The test database is per worker already: pytest-django
appends the worker's id to its name.)
"""

import os
from urllib.parse import urlsplit, urlunsplit

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_redis_url = os.environ.get("REDIS_URL", "")
if _worker.startswith("gw") and _redis_url:
    _parts = urlsplit(_redis_url)
    _db = int(_parts.path.strip("/") or 0) + int(_worker[2:])
    os.environ["REDIS_URL"] = urlunsplit(_parts._replace(path=f"/{_db}"))
