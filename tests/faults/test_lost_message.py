"""A change whose pub/sub announcement is lost is still picked up by the reconciler's
check of the database's head, within MAX_STALENESS (plus scheduling slack)."""

from __future__ import annotations

import json

import pytest
import redis
from django.db import transaction

import featureflags
from featureflags import services
from featureflags.models import Flag
from featureflags.store import changes, runtime

from .conftest import mirror_of, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


def test_lost_message_is_caught_by_the_version_check(private_redis_flags):
    client = redis.Redis.from_url(private_redis_flags.url)
    services.create_flag("quiet", enabled=True, percentage=100, actor="test")
    runtime.refresh()
    wait_until(lambda: runtime.status()["thread_alive"] and runtime.status()["redis_ok"], timeout=5)
    assert featureflags.is_enabled("quiet", "42") is True

    # Another process committed a change and wrote it to Redis, but its announcement
    # never arrived: the change log row, the rows, and Redis's copy, without PUBLISH.
    mirror = mirror_of(client, "fault")
    with transaction.atomic():
        head = changes.record(["quiet"])
        Flag.objects.filter(key="quiet").update(enabled=False, mirror_version=head.version)
    definition = json.loads(client.hget(mirror.defs_key, "quiet"))
    definition.update(enabled=False, rev=head.version)
    client.hset(mirror.defs_key, "quiet", json.dumps(definition))
    client.set(mirror.head_key, f"{head.version} {head.token}")

    staleness = 0.2  # MAX_STALENESS of the fixture
    seconds = wait_until(lambda: featureflags.is_enabled("quiet", "42") is False, timeout=staleness * 5 + 2)
    assert runtime.current().version == head.version
    print(f"lost message caught up after {seconds * 1000:.0f} ms (MAX_STALENESS {staleness * 1000:.0f} ms)")
