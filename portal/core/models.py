"""Kernel tables: the shared cache (portal/core/cache.py) and the workers' heartbeats (/healthz)."""

from django.db import models


class CacheEntry(models.Model):
    """Django's database cache table ("portal_cache"), created by migrations instead of createcachetable.

    It is the cache of the embedded default (SQLite, shared by every process) and, in production,
    the stand-in while Redis is away. The columns are those `DatabaseCache` reads and writes.
    """

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "portal_cache"
        managed = True

    def __str__(self):
        return self.cache_key


class CacheKeyToForget(models.Model):
    """A key written to the database cache while Redis was away: Redis forgets it when it is back."""

    key = models.CharField(max_length=250)
    # The cache version the key was written with; 0 stands for None, the cache's default version.
    version = models.IntegerField(default=0)
    noted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="core_cachekeytoforget_unique"),
        ]

    def __str__(self):
        return self.key


class WorkerHeartbeat(models.Model):
    """The last sign of life of one Celery worker, read by /healthz (portal.shell.health).

    Written by the worker's consumer (portal.core.worker_heartbeat) when it starts consuming and
    every PORTAL_WORKER_HEARTBEAT_SECONDS after, and deleted when it shuts down. It lives in the
    database, not in Redis, so that while Redis is away /healthz still tells "the worker is alive
    but cannot reach the broker" from "no worker at all".
    """

    name = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.name} {self.seen_at:%Y-%m-%d %H:%M:%S}"
