"""S3Cache on its own: TTL, LRU, byte budget, invalidation, generations and threads (no S3 needed)."""

import pytest

from conftest import run_threads
from tfm_jupyter import S3Cache
from tfm_jupyter.cache import NOT_FOUND


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def cache():
    cache = S3Cache(default_ttl=60, max_entries=3)
    cache._clock = Clock()
    return cache


def test_get_put_with_params_and_ttl(cache):
    cache.put("head_object", "b", "k", {"size": 1}, VersionId="v1")
    assert cache.get("head_object", "b", "k", VersionId="v1") == {"size": 1}
    assert cache.get("head_object", "b", "k") is None
    cache.put("head_object", "b", "short", "x", ttl=5)
    cache._clock.now = 6
    assert cache.get("head_object", "b", "short") is None
    assert cache.get("head_object", "b", "k", VersionId="v1") == {"size": 1}


def test_ttl_zero_stores_nothing(cache):
    cache.put("op", "b", "k", "v", ttl=0)
    assert cache.get("op", "b", "k") is None
    cache.configure(ttl=0)
    cache.put("op", "b", "k", "v")
    assert len(cache) == 0


def test_lru_evicts_least_recently_used(cache):
    for key in "abc":
        cache.put("op", "b", key, key)
    assert cache.get("op", "b", "a") == "a"  # touch a: b is now the oldest
    cache.put("op", "b", "d", "d")
    assert cache.get("op", "b", "b") is None
    assert [cache.get("op", "b", k) for k in "acd"] == ["a", "c", "d"]
    assert cache.get_stats()["evictions"] == 1


def test_expired_entries_are_counted_until_swept_and_go_first(cache):
    cache.put("op", "b", "old", 1, ttl=1)
    cache.put("op", "b", "new", 2)
    cache._clock.now = 2
    assert cache.get_stats()["expired_entries"] == 1
    assert cache.sweep() == 1
    assert cache.get_stats()["expired_entries"] == 0 and len(cache) == 1


def test_byte_budget_bounds_cached_bodies():
    cache = S3Cache(max_entries=100, max_bytes=100)
    cache.put("body", "b", "1", b"x" * 60, _nbytes=60)
    cache.put("body", "b", "2", b"y" * 60, _nbytes=60)
    assert cache.get("body", "b", "1") is None and cache.get("body", "b", "2") is not None
    cache.put("body", "b", "huge", b"z" * 101, _nbytes=101)
    assert cache.get("body", "b", "huge") is None
    assert cache.get_stats()["cached_body_bytes"] == 60


def test_invalidate_key_prefix_bucket_and_clear(cache):
    cache = S3Cache(max_entries=100)
    for key in ("a", "a/1", "a/2", "ab"):
        cache.put("stat", "b", key, key)
        cache.put("list_dir", "b", key, key)
    cache.put("stat", "other", "a", "x")
    cache.invalidate_key("b", "a")
    assert cache.get("stat", "b", "a") is None and cache.get("list_dir", "b", "a") is None
    assert cache.get("stat", "b", "a/1") == "a/1"
    cache.invalidate_prefix("b", "a/")
    assert cache.get("stat", "b", "a/1") is None and cache.get("stat", "b", "ab") == "ab"
    cache.invalidate_bucket("b")
    assert cache.get("stat", "b", "ab") is None and cache.get("stat", "other", "a") == "x"
    cache.clear()
    assert len(cache) == 0


def test_negative_answers_are_distinct_from_misses(cache):
    cache.put("stat", "b", "gone", NOT_FOUND)
    assert cache.lookup("stat", "b", "gone") == (True, NOT_FOUND)
    assert cache.lookup("stat", "b", "unknown") == (False, None)


def test_a_load_that_raced_a_write_is_not_stored(cache):
    def slow_listing():
        cache.invalidate_key("b", "k")  # a write lands while the listing is in flight
        return "stale listing"

    assert cache.get_or_load("list_dir", "b", "", slow_listing) == "stale listing"
    assert cache.get("list_dir", "b", "") is None
    assert cache.get_or_load("list_dir", "b", "", lambda: "fresh") == "fresh"
    assert cache.get("list_dir", "b", "") == "fresh"


def test_update_and_upsert(cache):
    assert not cache.update("list_dir", "b", "", lambda v: [*v, "x"])
    cache.put("list_dir", "b", "", ["a"])
    assert cache.update("list_dir", "b", "", lambda v: [*v, "x"])
    assert cache.get("list_dir", "b", "") == ["a", "x"]
    cache.upsert("stat", "b", "k", lambda old: (old or 0) + 1)
    cache.upsert("stat", "b", "k", lambda old: (old or 0) + 1)
    assert cache.get("stat", "b", "k") == 2


def test_stats_shape(cache):
    cache.get("op", "b", "k")
    cache.put("op", "b", "k", 1)
    cache.get("op", "b", "k")
    stats = cache.get_stats()
    assert {k: stats[k] for k in ("total_entries", "expired_entries", "max_entries", "default_ttl", "hits",
                                  "misses", "evictions")} == {
        "total_entries": 1, "expired_entries": 0, "max_entries": 3, "default_ttl": 60, "hits": 1, "misses": 1,
        "evictions": 0}


def test_invalid_configuration_is_rejected():
    with pytest.raises(ValueError):
        S3Cache(default_ttl=-1)
    with pytest.raises(ValueError):
        S3Cache(max_entries=0)


def test_sixteen_threads_keep_the_cache_consistent():
    cache = S3Cache(max_entries=50)

    def worker(n):
        for i in range(2000):
            key = f"{n}/{i % 80}"
            cache.put("stat", "b", key, (n, i))
            value = cache.get("stat", "b", key)
            assert value is None or value[0] == n
            if i % 7 == 0:
                cache.invalidate_prefix("b", f"{n}/")
            if i % 13 == 0:
                cache.update("stat", "b", key, lambda v: v)

    assert run_threads(worker) == []
    stats = cache.get_stats()
    assert stats["total_entries"] <= 50
    assert sum(len(keys) for keys in cache._by_location.values()) == stats["total_entries"]
