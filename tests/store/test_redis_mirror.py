"""The Redis mirror against the real Redis server, under a private key prefix."""

from __future__ import annotations

import json
import time

import pytest
import redis

import featureflags
from featureflags import services
from featureflags.engine import Reason
from featureflags.store import runtime
from featureflags.store.redis_mirror import RedisMirror

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.fixture
def client(redis_url):
    return redis.Redis.from_url(redis_url)


@pytest.fixture
def mirror(client, key_prefix):
    return RedisMirror(client, key_prefix)


def test_a_write_is_published_with_its_version(redis_flags, mirror, client, key_prefix):
    services.create_flag("new_ui", enabled=True, percentage=30, rules=["^qa"])
    version = mirror.version()
    definition = json.loads(client.hget(f"{key_prefix}:defs", "new_ui"))
    assert definition["percentage"] == 30 and definition["rules"] == ["^qa"]
    assert definition["rev"] == version
    services.set_percentage("new_ui", 40)
    assert mirror.version() == version + 1
    assert runtime.current().version == version + 1


def test_a_new_process_loads_from_redis(redis_flags, mirror):
    services.create_flag("f", enabled=True, percentage=0)
    services.add_users("f", ["42"])
    runtime.reset()  # as a freshly started process
    assert featureflags.evaluate("f", "42").reason is Reason.TARGETED
    assert runtime.status()["mode"] == "redis"
    assert runtime._state.raw["f"].startswith("{")  # the definition came from Redis


def test_a_big_list_travels_as_a_compact_blob(redis_flags, mirror, client, key_prefix):
    services.create_flag("big", enabled=True, percentage=0)
    services.add_users("big", (f"user-{i}" for i in range(15_000)))
    definition = json.loads(client.hget(f"{key_prefix}:defs", "big"))
    blob = definition["users"]["blob"]
    assert client.strlen(blob) < 15_000 * 16
    runtime.reset()
    assert featureflags.is_enabled("big", "user-14999") is True
    assert featureflags.is_enabled("big", "user-15000") is False
    # A change that leaves the list alone keeps the same blob.
    services.set_percentage("big", 10)
    assert json.loads(client.hget(f"{key_prefix}:defs", "big"))["users"]["blob"] == blob


def test_an_older_publish_never_overwrites_newer_data(redis_flags, mirror, client, key_prefix):
    services.create_flag("f", enabled=True, percentage=10)
    services.set_percentage("f", 20)
    newest = mirror.version()
    stale = json.dumps({"key": "f", "enabled": True, "percentage": 99, "rev": newest - 1})
    mirror._publish_script(
        keys=[mirror.defs_key, mirror.revs_key, mirror.version_key, mirror.channel],
        args=[newest - 1, 1, f"{newest - 1} f", "f", stale],
    )
    assert json.loads(client.hget(f"{key_prefix}:defs", "f"))["percentage"] == 20
    assert mirror.version() == newest


def test_a_lost_message_is_caught_up_by_the_version_check(redis_flags, mirror, client, key_prefix):
    services.create_flag("f", enabled=True, percentage=0)
    assert featureflags.is_enabled("f", "someone") is False
    assert wait_until(lambda: runtime.status()["seconds_since_sync"] is not None)
    # Another process published without the announcement reaching anyone.
    version = mirror.version() + 1
    definition = json.loads(client.hget(f"{key_prefix}:defs", "f"))
    definition.update(percentage=100, rev=version)
    client.hset(f"{key_prefix}:defs", "f", json.dumps(definition))
    client.set(f"{key_prefix}:version", version)
    started = time.monotonic()
    assert wait_until(lambda: featureflags.is_enabled("f", "someone"), timeout=3)
    # MAX_STALENESS is 0.2 s in this fixture; allow scheduling slack.
    assert time.monotonic() - started < 1.5


def test_an_emptied_redis_is_reseeded_from_the_database(redis_flags, mirror, client, key_prefix):
    services.create_flag("f", enabled=True)
    assert featureflags.is_enabled("f") is True
    for key in client.scan_iter(f"{key_prefix}:*"):
        client.delete(key)
    assert wait_until(lambda: client.hget(f"{key_prefix}:defs", "f") is not None, timeout=5)
    assert featureflags.is_enabled("f") is True


def test_deleting_a_flag_removes_it_everywhere(redis_flags, mirror, client, key_prefix):
    services.create_flag("f", enabled=True)
    services.delete_flag("f")
    assert client.hget(f"{key_prefix}:defs", "f") is None
    assert featureflags.evaluate("f").reason is Reason.UNKNOWN_FLAG
