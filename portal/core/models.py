"""Tables of the shared cache (portal/core/cache.py)."""

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
