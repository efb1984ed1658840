"""Django's Redis cache, with one Redis client object per connection pool instead of one per call.

Django builds a new `redis.Redis` for every cache operation; building one copies about 170
response callbacks, which costs a cached page more than the round trip to Redis itself. A client
object is thread-safe (each command borrows a connection from the pool), and Django keeps one cache
object per thread anyway, so reusing it changes nothing but the cost.
"""

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:  # as Django's _get_connection_pool, for the index chosen above
                self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
