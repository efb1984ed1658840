"""The Redis cache backend keeps one client object per connection pool."""

from portal.core.redis_cache import RedisCache


def test_one_client_object_serves_every_call():
    cache = RedisCache("redis://127.0.0.1:6379/9", {})
    client = cache._cache.get_client()

    assert cache._cache.get_client(write=True) is client
    assert cache._cache.get_client("any-key") is client
    assert client.connection_pool is cache._cache._pools[0]


def test_reads_spread_over_replicas_each_with_its_own_client():
    cache = RedisCache("redis://127.0.0.1:6379/9,redis://127.0.0.1:6380/9,redis://127.0.0.1:6381/9", {})

    writer = cache._cache.get_client(write=True)
    readers = {id(cache._cache.get_client()) for _ in range(60)}

    assert writer.connection_pool.connection_kwargs["port"] == 6379
    assert id(writer) not in readers
    assert len(readers) == 2  # one per replica, reused
    for index in (1, 2):
        assert cache._cache._clients[index].connection_pool is cache._cache._pools[index]
