from django.db import models


class WorkerHeartbeat(models.Model):
    """The last sign of life of one Celery worker, read by /healthz (portal.core.health).

    Written by the worker's consumer (portal.core.worker_heartbeat) when it starts consuming and
    every PORTAL_WORKER_HEARTBEAT_SECONDS after, and deleted when it shuts down. It lives in the
    database, not in Redis, so that while Redis is away /healthz still tells "the worker is alive
    but cannot reach the broker" from "no worker at all".
    """

    name = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.name} {self.seen_at:%Y-%m-%d %H:%M:%S}"
