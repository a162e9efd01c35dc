"""Random and malicious import files: every format answers with the flags or a
ValidationError naming "<flag>.<field>"; loading is all or nothing."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from featureflags.formats import config_file, loading, native

from .strategies import NASTY_STRINGS, database_state, json_values, text

pytestmark = pytest.mark.django_db

HYPOTHESIS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
CONFIG_FIELDS = sorted(config_file.KNOWN_FIELDS)
config_entries = st.dictionaries(st.one_of(st.sampled_from(CONFIG_FIELDS), text), json_values, max_size=6)
config_files = st.one_of(
    json_values, st.dictionaries(st.one_of(st.sampled_from(["a_flag", "b.flag"]), text), config_entries, max_size=4)
)


def parse_and_load(parse, data) -> None:
    """Parse then load; a refusal must name fields and leave the database as it was."""
    before = database_state()
    try:
        loading.load(parse(data), actor="fuzz")
    except ValidationError as exc:
        assert exc.message_dict, "a refusal must name the field"
        assert database_state() == before, "a refused import changed the database"


@HYPOTHESIS
@given(data=config_files)
def test_config_file_random_payloads(data):
    parse_and_load(config_file.parse_config, data)


@HYPOTHESIS
@given(
    flags=st.lists(
        st.dictionaries(
            st.one_of(st.sampled_from(["key", "enabled", "percentage", "users", "rules"]), text), json_values
        ),
        max_size=4,
    ),
    version=st.one_of(st.just(native.FORMAT_VERSION), json_values),
)
def test_native_export_random_payloads(flags, version):
    parse_and_load(native.parse_export, {"format": native.FORMAT_NAME, "version": version, "flags": flags})


@pytest.mark.parametrize("value", NASTY_STRINGS)
def test_nasty_values_in_a_real_config(value):
    for field in ("users", "regions", "depends_on", "activation_date", "percentage_rollout", "metadata"):
        entry = {"active": True, field: [value] if field in ("users", "regions", "depends_on") else value}
        parse_and_load(config_file.parse_config, {"nasty": entry})


def test_huge_config_with_one_bad_id_loads_nothing():
    good = {"active": True, "users": [str(i) for i in range(30_000)]}
    bad = {"active": True, "users": [str(i) for i in range(30_000)] + ["bad\x00id"]}
    before = database_state()
    with pytest.raises(ValidationError):
        loading.load(config_file.parse_config({"good": good, "bad": bad}), actor="fuzz")
    assert database_state() == before


def test_deeply_nested_json_is_refused_not_crashing():
    nested: object = "x"
    for _ in range(2_000):
        nested = {"metadata": nested}
    parse_and_load(config_file.parse_config, {"deep": {"active": True, "metadata": nested}})
    raw = "[" * 100_000 + "]" * 100_000
    with pytest.raises((RecursionError, ValueError)):
        json.loads(raw)  # the CLI reads files with json.loads: a hostile file is a ValueError/RecursionError there


@pytest.mark.redis
def test_hanoi_keyspace_with_hostile_values(redis_url, key_prefix):
    import redis

    from featureflags.formats import hanoi_redis

    client = redis.Redis.from_url(redis_url)
    prefix = f"{key_prefix}:"
    client.set(f"{prefix}rollout:fine", "1|50|id|")
    client.set(f"{prefix}rollout:pipes", "1|50|||||")
    client.set(f"{prefix}rollout:percent", "1|banana|id|")
    client.set(f"{prefix}rollout:bad key!", "1|50|id|")
    client.set(f"{prefix}rollout:binary", b"\xff\xfe\x00|\x80")
    client.sadd(f"{prefix}rollout:users:fine", "ok", "bad\x00id", "x" * 300)
    client.hset(f"{prefix}rollout:hash", "a", "b")
    before = database_state()
    try:
        definitions = hanoi_redis.read_keyspace(client, prefix=prefix)
    except ValidationError as exc:
        assert exc.message_dict
        assert database_state() == before
        return
    parse_and_load(lambda d: d, definitions)
