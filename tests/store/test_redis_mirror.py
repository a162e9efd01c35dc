"""The Redis mirror against the real Redis server, under a private key prefix."""

from __future__ import annotations

import json
import time

import pytest
import redis

import featureflags
from featureflags import services
from featureflags.engine import Reason
from featureflags.store import changes, runtime, state
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
def mirror(redis_flags, client, key_prefix):
    return RedisMirror(client, key_prefix, changes.head().deployment)


def definition(client, mirror, key):
    raw = client.hget(mirror.defs_key, key)
    return None if raw is None else json.loads(raw)


def test_every_key_is_hash_tagged_and_names_the_deployment(mirror, key_prefix):
    deployment = changes.head().deployment
    for name in (mirror.head_key, mirror.defs_key, mirror.pending_key, mirror.channel, mirror.blob_key("x")):
        assert name.startswith(f"{{{key_prefix}}}:{deployment}:"), name


def test_a_write_is_published_with_its_version(mirror, client):
    services.create_flag("new_ui", enabled=True, percentage=30, rules=["^qa"])
    head = changes.head()
    stored = definition(client, mirror, "new_ui")
    assert stored["percentage"] == 30 and stored["rules"] == ["^qa"]
    assert stored["rev"] == head.version
    assert mirror.head() == (head.version, head.token)
    services.set_percentage("new_ui", 40)
    assert mirror.head()[0] == head.version + 1
    assert runtime.current().version == head.version + 1


def test_a_new_process_loads_from_redis(mirror):
    services.create_flag("f", enabled=True, percentage=0)
    services.add_users("f", ["42"])
    runtime.reset()  # as a freshly started process
    assert featureflags.evaluate("f", "42").reason is Reason.TARGETED
    assert runtime.status()["mode"] == "redis"
    assert runtime.status()["source"] == "redis"


def test_a_big_list_travels_as_a_compact_blob(mirror, client):
    services.create_flag("big", enabled=True, percentage=0)
    services.add_users("big", (f"user-{i}" for i in range(15_000)))
    blob = definition(client, mirror, "big")["users"]["blob"]
    assert client.strlen(blob) < 15_000 * 16
    runtime.reset()
    assert featureflags.is_enabled("big", "user-14999") is True
    assert featureflags.is_enabled("big", "user-15000") is False
    assert runtime.status()["source"] == "redis"
    # A change that leaves the list alone keeps the same blob.
    services.set_percentage("big", 10)
    assert definition(client, mirror, "big")["users"]["blob"] == blob


def test_changes_published_out_of_order_are_applied_in_order(redis_flags, client, key_prefix):
    # A deployment of its own: this process's reconciler would repair its real one meanwhile.
    mirror = RedisMirror(client, key_prefix, "script-test")
    start = {"f": json.dumps({"key": "f", "enabled": True, "percentage": 10, "rev": 5})}
    first = {"f": json.dumps({"key": "f", "enabled": True, "percentage": 20, "rev": 6})}
    second = {"f": json.dumps({"key": "f", "enabled": True, "percentage": 30, "rev": 7})}
    assert mirror.publish(0, 5, "t0", start, full=True) == 5
    # The later change arrives first: it waits, Redis's head does not move past the gap.
    assert mirror.publish(6, 7, "t2", second) == 5
    assert definition(client, mirror, "f")["percentage"] == 10
    assert mirror.publish(5, 6, "t1", first) == 7
    assert definition(client, mirror, "f")["percentage"] == 30
    assert mirror.head() == (7, "t2")
    # A late copy of a change already applied changes nothing.
    assert mirror.publish(5, 6, "t1", first) == 7
    assert definition(client, mirror, "f")["percentage"] == 30


def test_a_lost_message_is_caught_up_from_the_database(mirror):
    services.create_flag("f", enabled=True, percentage=0)
    assert featureflags.is_enabled("f", "someone") is False
    assert wait_until(lambda: runtime.status()["seconds_since_check"] is not None)
    # Another process committed and died before publishing: only the database knows.
    from django.db import transaction

    from featureflags.models import Flag

    with transaction.atomic():
        head = changes.record(["f"])
        Flag.objects.filter(key="f").update(percentage=100, mirror_version=head.version)
    started = time.monotonic()
    assert wait_until(lambda: featureflags.is_enabled("f", "someone"), timeout=3)
    assert time.monotonic() - started < 1.5  # MAX_STALENESS is 0.2 s here; scheduling slack
    # ...and the reconciler brings Redis to the database's head as well.
    assert wait_until(lambda: mirror.head() == (head.version, head.token), timeout=3)


def test_an_emptied_redis_is_reseeded_from_the_database(mirror, client):
    services.create_flag("f", enabled=True)
    assert featureflags.is_enabled("f") is True
    client.delete(mirror.head_key, mirror.defs_key)
    assert wait_until(lambda: client.hget(mirror.defs_key, "f") is not None, timeout=5)
    assert featureflags.is_enabled("f") is True


def test_another_deployment_on_the_same_server_and_prefix_is_ignored(mirror, client, key_prefix):
    services.create_flag("f", enabled=True)
    assert featureflags.is_enabled("f") is True
    stranger = RedisMirror(client, key_prefix, "another-deployment")
    payload = {"f": json.dumps({"key": "f", "enabled": False, "rev": 10_000})}
    stranger.publish(0, 10_000, "x", payload, full=True)
    stranger.publish(10_000, 10_001, "y", payload)
    services.set_percentage("f", 50)  # this deployment's next change still arrives
    assert featureflags.is_enabled("f") is True
    assert runtime.current().flags["f"].percentage == 50
    assert definition(client, mirror, "f")["enabled"] is True


def test_deleting_a_flag_removes_it_everywhere(mirror, client):
    services.create_flag("f", enabled=True)
    services.delete_flag("f")
    assert client.hget(mirror.defs_key, "f") is None
    assert featureflags.evaluate("f").reason is Reason.UNKNOWN_FLAG
    assert "f" not in state.base.definitions
