"""Import from keys written the way hanoi 0.0.4's Redis backends write them, in the real Redis."""

from __future__ import annotations

import pytest
import redis
from django.core.exceptions import ValidationError

from featureflags.engine import Context
from featureflags.engine.hashing import crc32_bucket, signed_crc32
from featureflags.formats.hanoi_redis import read_keyspace
from featureflags.formats.loading import load
from featureflags.models import Flag, FlagUser
from featureflags.store import runtime

pytestmark = pytest.mark.django_db


@pytest.fixture
def hanoi(redis_url, key_prefix):
    """A client and the prefix hanoi's keys live under in this test (``<prefix>:rollout:...``)."""
    return redis.Redis.from_url(redis_url), f"{key_prefix}:"


def _write_like_hanoi(client, prefix):
    # RedisHighPerfBackEnd: "<1|0>|<percentage>|<id field>|<variants>" and a set of users.
    client.set(f"{prefix}rollout:cdc_on", "1|80||foo,bar")
    client.sadd(f"{prefix}rollout:users:cdc_on", "447568110000", "44488")
    client.set(f"{prefix}rollout:dark_mode", "0|100||")
    # RedisBackEnd: "<1|0>|<percentage>|<id field>|<users>|<variants>".
    client.set(f"{prefix}rollout:old_csv", "1|0|user_id|7,8,9|")


def test_flags_and_users_are_imported_with_crc32_bucketing(hanoi):
    client, prefix = hanoi
    _write_like_hanoi(client, prefix)
    definitions = read_keyspace(client, prefix)
    assert set(definitions) == {"cdc_on", "dark_mode", "old_csv"}
    report = load(definitions, source_detail="hanoi")
    assert set(report.values()) == {"created"}
    cdc = Flag.objects.get(key="cdc_on")
    assert (cdc.enabled, cdc.percentage, cdc.bucketing) == (True, 80, "crc32")
    assert not Flag.objects.get(key="dark_mode").enabled
    assert set(FlagUser.objects.filter(flag__key="old_csv").values_list("user_id", flat=True)) == {"7", "8", "9"}
    assert Flag.objects.get(key="old_csv").metadata == {"hanoi_id_field": "user_id"}
    assert [v.name for v in cdc.variants.all()] == ["foo", "bar"]
    assert not Flag.objects.get(key="old_csv").variants.exists()

    snapshot = runtime.refresh()
    assert snapshot.evaluate("cdc_on", Context("44488")).reason.value == "TARGETED"
    # The README's example: crc32('444401') % 100 = 89, not under 80 %; the cohort is hanoi's crc32 one.
    assert crc32_bucket("444401") == 89
    assert not snapshot.is_enabled("cdc_on", Context("444401"))
    for user in (str(n) for n in range(1000, 1200)):
        assert snapshot.is_enabled("cdc_on", Context(user)) == (crc32_bucket(user) < 80)
    assert snapshot.is_enabled("old_csv", Context("8")) and not snapshot.is_enabled("old_csv", Context("10"))
    # Variants as hanoi picked them: variants[crc32(id) % len(variants)] (spec/hanoi-compat.md).
    for user in ("44488", "447568110000"):
        assert snapshot.variant("cdc_on", Context(user)) == ["foo", "bar"][signed_crc32(user) % 2]


def test_reimport_is_unchanged_and_changes_are_seen(hanoi):
    client, prefix = hanoi
    _write_like_hanoi(client, prefix)
    load(read_keyspace(client, prefix))
    assert set(load(read_keyspace(client, prefix), dry_run=True).values()) == {"unchanged"}
    client.sadd(f"{prefix}rollout:users:cdc_on", "1")
    assert load(read_keyspace(client, prefix), dry_run=True)["cdc_on"] == "updated"


def test_bad_values_are_listed_and_nothing_is_read(hanoi):
    client, prefix = hanoi
    _write_like_hanoi(client, prefix)
    client.set(f"{prefix}rollout:broken", "yes|lots")
    client.set(f"{prefix}rollout:bad key!", "1|10||")
    client.set(f"{prefix}rollout:too_many", "1|10|||||")
    with pytest.raises(ValidationError) as raised:
        read_keyspace(client, prefix)
    assert set(raised.value.message_dict) == {"broken.definition", "bad key!.key", "too_many.definition"}


def test_only_keys_under_the_prefix_are_read(hanoi, key_prefix):
    client, prefix = hanoi
    _write_like_hanoi(client, prefix)
    client.set(f"{key_prefix}-other:rollout:stranger", "1|100||")
    try:
        assert "stranger" not in read_keyspace(client, prefix)
    finally:
        client.delete(f"{key_prefix}-other:rollout:stranger")
