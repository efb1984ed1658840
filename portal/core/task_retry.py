"""The one retry policy of every Celery task: back off and try again only on known transient errors.

Every task is declared with `retrying_task`, which is Celery's `shared_task` in that one form:

    @retrying_task(max_retries=5, ignore_result=True)
    def report_render(self, report_id): ...

A transient error is one that the same call can survive a moment later: the database or Redis
went away, refused a connection, timed out, or gave up a lock or a serialisable transaction
(PostgreSQL reports deadlocks and serialisation failures as OperationalError). Anything else
(a ValidationError, a missing row, a bug) is permanent and fails the task at once, because a
retry would fail the same way and only hide it. A task that must record a failure (a report
marked failed) does so in its `on_failure`, which runs after the last retry too.
"""

from celery import shared_task
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    DatabaseOperationalError,
    DatabaseInterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
    BrokerOperationalError,
    # Sockets: refused, reset, timed out (SMTP, HTTP, Redis, PostgreSQL below their drivers).
    ConnectionError,
    TimeoutError,
)

# Delays of 1, 2, 4, 8 … seconds (each drawn at random below that, so retries spread out), never
# more than ten minutes apart.
RETRY_BACKOFF_MAX = 600


def retrying_task(*, max_retries: int, **options):
    """`shared_task` (bound) that retries only on TRANSIENT_ERRORS, with jittered exponential backoff."""
    return shared_task(
        bind=True,
        autoretry_for=TRANSIENT_ERRORS,
        retry_backoff=True,
        retry_backoff_max=RETRY_BACKOFF_MAX,
        retry_jitter=True,
        max_retries=max_retries,
        **options,
    )
