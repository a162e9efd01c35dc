"""Redis killed under load: pages keep answering from the last snapshot, writes go
on, and Redis is brought up to date when it returns."""

from __future__ import annotations

import json
import threading

import pytest
import redis
from django.test import Client

import featureflags
from featureflags import services
from featureflags.store import runtime

from .conftest import mirror_of, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


class Load(threading.Thread):
    """Requests the demo site's home page (which evaluates every flag) until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.statuses: list[int] = []
        self.decisions: list[bool] = []
        self.errors: list[BaseException] = []

    def run(self) -> None:
        client = Client()
        while not self.stop.is_set() and len(self.statuses) < 5000:
            try:
                self.statuses.append(client.get("/").status_code)
                self.decisions.append(featureflags.is_enabled("steady", "42"))
            except BaseException as exc:  # any exception is a failed request
                self.errors.append(exc)


def test_redis_killed_under_load(private_redis_flags):
    server = private_redis_flags
    services.create_flag("steady", enabled=True, percentage=100, actor="test")
    services.create_flag("changed", enabled=False, actor="test")
    runtime.refresh()
    assert runtime.status()["mode"] == "redis"
    client = redis.Redis.from_url(server.url)
    mirror = mirror_of(client, "fault")
    wait_until(lambda: client.hexists(mirror.defs_key, "steady"), timeout=5)

    load = Load()
    load.start()
    try:
        wait_until(lambda: len(load.statuses) >= 5, timeout=10)
        server.stop()
        wait_until(lambda: runtime.status()["redis_ok"] is False, timeout=5)
        served_before = len(load.statuses)
        # Writes go on while Redis is away: the database is the truth.
        services.set_enabled("changed", True, actor="test")
        services.create_flag("created_meanwhile", enabled=True, actor="test")
        assert featureflags.is_enabled("changed", "42") is True  # this process applied it from the database
        wait_until(lambda: len(load.statuses) >= served_before + 5, timeout=10)

        server.start()
        # The sync thread re-publishes what Redis missed (it restarted empty).
        wait_until(lambda: runtime.status()["redis_ok"] is True, timeout=10)
        wait_until(lambda: client.hexists(mirror.defs_key, "created_meanwhile"), timeout=10)
        wait_until(lambda: len(load.statuses) >= served_before + 10, timeout=10)
    finally:
        load.stop.set()
        load.join(timeout=10)

    assert not load.errors, load.errors[:3]
    assert load.statuses and all(status < 500 for status in load.statuses), sorted(set(load.statuses))
    flips = [i for i, d in enumerate(load.decisions) if not d]
    assert not flips, (
        f"a check of an unchanged flag flipped: {len(flips)} of {len(load.decisions)} at {flips[:5]}, {served_before=}"
    )
    assert json.loads(client.hget(mirror.defs_key, "changed"))["enabled"] is True
    assert json.loads(client.hget(mirror.defs_key, "created_meanwhile"))["enabled"] is True
    # A process starting now, from Redis alone, sees the changes made meanwhile.
    runtime.reset()
    assert featureflags.is_enabled("created_meanwhile", "7") is True
    assert featureflags.is_enabled("changed", "7") is True
