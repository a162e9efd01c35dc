"""The native format is lossless: export, import into an empty database, identical decisions."""

from __future__ import annotations

import io
import json

import pytest
from django.core.exceptions import ValidationError

from featureflags import services
from featureflags.engine import Context
from featureflags.formats.loading import load
from featureflags.formats.native import parse_export, write_export
from featureflags.models import AuditEntry, Flag, FlagUser
from featureflags.serialization import flag_state, with_relations
from featureflags.store import runtime

pytestmark = pytest.mark.django_db


def _make_flags():
    services.create_flag("base", enabled=True, percentage=60, environments=["production", "staging"])
    services.create_flag(
        "rich",
        enabled=True,
        percentage=35,
        stickiness="account",
        salt="s1",
        rules=["^staff-", "7$"],
        constraints=[{"attribute": "region", "operator": "IN", "values": ["US", "CA"], "case_insensitive": True}],
        variants=[{"name": "blue", "weight": 2}, {"name": "green", "weight": 1}],
        pinned_variants={"u3": "green"},
        prerequisites=[{"key": "base"}],
        start_at="2020-01-01T00:00:00+00:00",
        tags=["web"],
        owner="UI",
        metadata={"ticket": "FF-1"},
        error_threshold=10,
    )
    services.create_flag("legacy", enabled=True, percentage=40, bucketing="crc32", variants=["a", "b"])
    services.add_users("rich", [f"u{i}" for i in range(3000)])  # past the compact-list threshold
    services.add_users("rich", ["u5", "u6"], excluded=True)
    services.add_users("legacy", ["447568110000"])


def _contexts():
    for i in range(400):
        yield Context(f"u{i}", {"region": ["US", "ca", "DE"][i % 3], "account": str(i % 7)}, environment="production")
        yield Context(str(40000 + i), {"region": "US"}, environment=["production", "staging", "qa"][i % 3])
    yield None


def _decisions():
    snapshot = runtime.refresh()
    return [snapshot.evaluate(key, ctx) for key in ("base", "rich", "legacy", "missing") for ctx in _contexts()]


def test_export_then_import_into_an_empty_database_gives_identical_decisions():
    _make_flags()
    before = _decisions()
    states = {f.key: flag_state(f) for f in with_relations(Flag.objects)}
    out = io.StringIO()
    assert write_export(out) == 3
    for key in ("rich", "legacy", "base"):
        services.delete_flag(key)
        services.purge_flag(key)  # deleting archives; purged, the database is empty
    assert not FlagUser.objects.exists()
    report = load(parse_export(json.loads(out.getvalue())), source_detail="export.json")
    assert report == {"base": "created", "legacy": "created", "rich": "created"}
    after = _decisions()
    assert after == before
    assert sum(d.enabled for d in before) > 100 and len({d.reason for d in before}) >= 6  # a varied sample
    for flag in with_relations(Flag.objects):
        restored = flag_state(flag)
        assert {k: v for k, v in restored.items() if k != "version"} == {
            k: v for k, v in states[flag.key].items() if k != "version"
        }
    assert FlagUser.objects.filter(flag__key="rich", excluded=False).count() == 3000
    assert AuditEntry.objects.filter(source="import", source_detail="export.json").exists()


def test_reimport_is_unchanged():
    _make_flags()
    out = io.StringIO()
    write_export(out)
    assert set(load(parse_export(json.loads(out.getvalue())), dry_run=True).values()) == {"unchanged"}


def test_export_some_keys_and_refuse_unknown_ones():
    _make_flags()
    out = io.StringIO()
    write_export(out, ["base"])
    assert [f["key"] for f in json.loads(out.getvalue())["flags"]] == ["base"]
    with pytest.raises(ValidationError):
        write_export(io.StringIO(), ["nope"])


def test_parse_errors_name_flag_and_field():
    with pytest.raises(ValidationError) as raised:
        parse_export({"format": "featureflags", "version": 1, "flags": [{"key": "a", "colour": 1, "users": "x"}]})
    assert set(raised.value.message_dict) == {"a.colour", "a.users"}
    with pytest.raises(ValidationError, match="Not a featureflags export"):
        parse_export({"new_ui": {}})


def test_typed_values_round_trip():
    variants = [
        {"name": "single", "weight": 1, "value": {"steps": 1, "labels": ["pay"]}},
        {"name": "two", "weight": 3, "value": {"steps": 2, "labels": ["address", "pay"]}},
    ]
    services.create_flag("layout", enabled=True, value_type="json", variants=variants, pinned_variants={"u1": "two"})
    numbers = [{"name": "low", "weight": 1, "value": 0.125}, {"name": "high", "weight": 1, "value": 40}]
    services.create_flag("page_size", enabled=True, percentage=50, value_type="number", variants=numbers)
    before = [runtime.refresh().evaluate(key, ctx) for key in ("layout", "page_size") for ctx in _contexts()]
    assert {json.dumps(d.value, sort_keys=True) for d in before if d.enabled} >= {
        '{"labels": ["pay"], "steps": 1}',
        "40",
    }
    out = io.StringIO()
    write_export(out)
    exported = {f["key"]: f for f in json.loads(out.getvalue())["flags"]}
    assert exported["page_size"]["value_type"] == "number"
    assert [v["value"] for v in exported["page_size"]["variants"]] == [0.125, 40]
    for key in ("layout", "page_size"):
        services.delete_flag(key)
        services.purge_flag(key)
    assert load(parse_export(json.loads(out.getvalue()))) == {"layout": "created", "page_size": "created"}
    after = [runtime.refresh().evaluate(key, ctx) for key in ("layout", "page_size") for ctx in _contexts()]
    assert after == before
    assert set(load(parse_export(json.loads(out.getvalue())), dry_run=True).values()) == {"unchanged"}


def test_an_import_with_a_value_of_the_wrong_type_names_the_field():
    data = {
        "format": "featureflags",
        "version": 1,
        "flags": [{"key": "layout", "value_type": "number", "variants": [{"name": "a", "value": "wide"}]}],
    }
    with pytest.raises(ValidationError) as raised:
        load(parse_export(data))
    assert "layout.variants.0.value" in raised.value.message_dict
    assert not Flag.objects.filter(key="layout").exists()
