"""Celery workers say they are alive by writing a row, which /healthz reads instead of pinging them.

A consumer bootstep (registered in portal/celery.py) writes the worker's `WorkerHeartbeat` row once
it consumes tasks and then every PORTAL_WORKER_HEARTBEAT_SECONDS from the consumer's own timer, and
deletes the row when the worker shuts down. The timer runs in the consumer's event loop, so the
heartbeat means "this worker is connected and taking tasks": it stops while the consumer is
reconnecting to a broker that went away, and (with the solo pool only) while a task runs.

`control.ping` asked every worker over the broker and waited out its whole timeout for replies;
reading a row is one query, and the row is in the database rather than in Redis so that a Redis
outage does not also hide the workers.
"""

import logging
from datetime import timedelta

from celery import bootsteps
from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)

# Rows of workers that vanished without shutting down (killed, host gone) are cleared after a day.
FORGET_AFTER = timedelta(days=1)


def heartbeat_write(name: str) -> None:
    from .models import WorkerHeartbeat

    now = timezone.now()
    WorkerHeartbeat.objects.bulk_create(
        [WorkerHeartbeat(name=name[:255], seen_at=now)],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["seen_at"],
    )


def heartbeats_forget_old() -> int:
    from .models import WorkerHeartbeat

    return WorkerHeartbeat.objects.filter(seen_at__lt=timezone.now() - FORGET_AFTER).delete()[0]


def heartbeat_delete(name: str) -> None:
    from .models import WorkerHeartbeat

    WorkerHeartbeat.objects.filter(name=name[:255]).delete()


class WorkerHeartbeatStep(bootsteps.StartStopStep):
    """Consumer step: heartbeat row at start, every few seconds, removed at shutdown."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent, **kwargs):
        self.tref = None
        super().__init__(parent, **kwargs)

    def start(self, c):
        self._beat(c.hostname, forget_old=True)
        self.tref = c.timer.call_repeatedly(settings.PORTAL_WORKER_HEARTBEAT_SECONDS, self._beat, (c.hostname,))

    def stop(self, c):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    def shutdown(self, c):
        self.stop(c)
        try:
            close_old_connections()
            heartbeat_delete(c.hostname)
        except DatabaseError:
            logger.warning("Could not remove the heartbeat of worker %s", c.hostname, exc_info=True)

    def _beat(self, name: str, *, forget_old: bool = False) -> None:
        # A database that is away must not stop the consumer: the heartbeat simply ages.
        try:
            close_old_connections()
            heartbeat_write(name)
            if forget_old:
                heartbeats_forget_old()
        except DatabaseError:
            logger.warning("Could not write the heartbeat of worker %s", name, exc_info=True)
