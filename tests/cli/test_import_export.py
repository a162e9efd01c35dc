"""``flags export`` / ``flags import``: native, features_config.json (all or nothing, --dry-run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management.base import CommandError

from featureflags import services
from featureflags.engine import Context
from featureflags.models import AuditEntry, Flag
from featureflags.store import runtime

EXAMPLE = Path(settings.BASE_DIR).parent / "shared" / "data" / "features_config.json"


@pytest.fixture
def example(tmp_path):
    if not EXAMPLE.exists():
        pytest.fail(f"{EXAMPLE} is missing")
    path = tmp_path / "features_config.json"
    path.write_text(EXAMPLE.read_text())
    return path


def test_config_import_gives_the_spec_decisions(flags_cmd, example):
    out = flags_cmd("import", str(example), "--format", "config")
    assert "created    new_ui" in out and "created    advanced_search" in out
    snapshot = runtime.refresh()
    us = Context("123", {"region": "US", "account_type": "premium", "beta_program": "true"}, environment="production")
    assert snapshot.evaluate("new_ui", us).reason.value == "TARGETED"
    assert snapshot.evaluate("advanced_search", us).reason.value == "RULE"
    assert snapshot.evaluate("advanced_search", us).enabled
    de = Context("999", {"region": "DE"}, environment="production")
    assert (snapshot.evaluate("new_ui", de).enabled, snapshot.evaluate("new_ui", de).reason.value) == (
        False,
        "NO_MATCH",
    )
    assert snapshot.evaluate("advanced_search", de).reason.value == "PREREQUISITE"
    assert snapshot.evaluate("new_ui", None).reason.value == "GLOBAL"
    qa = Context("123", {"region": "US"}, environment="qa")
    assert snapshot.evaluate("advanced_search", qa).reason.value == "ENVIRONMENT"
    entry = AuditEntry.objects.filter(flag_key="new_ui").first()
    assert (entry.source, entry.source_detail) == ("import", "features_config.json")


def test_dry_run_changes_nothing_and_reports(flags_cmd, example):
    out = flags_cmd("import", str(example), "--dry-run")
    assert "created    new_ui" in out and "Dry run" in out
    assert not Flag.objects.exists()
    flags_cmd("import", str(example))
    report = json.loads(flags_cmd("import", str(example), "--dry-run", "--json"))
    assert report["flags"] == {"new_ui": "unchanged", "advanced_search": "unchanged"}
    data = json.loads(example.read_text())
    data["new_ui"]["percentage_rollout"] = 50
    example.write_text(json.dumps(data))
    assert json.loads(flags_cmd("import", str(example), "--dry-run", "--json"))["flags"]["new_ui"] == "updated"


def test_one_bad_flag_changes_nothing_and_lists_every_error(flags_cmd, example):
    data = json.loads(example.read_text())
    data["broken"] = {"active": True, "percentage_rollout": 150, "colour": "red"}
    data["cyclic"] = {"active": True, "depends_on": ["missing_flag"]}
    example.write_text(json.dumps(data))
    with pytest.raises(CommandError) as raised:
        flags_cmd("import", str(example))
    message = str(raised.value)
    assert "broken.colour" in message and "Nothing was imported" in message
    assert "broken.percentage" in message and "cyclic.prerequisites" in message  # every error at once
    assert not Flag.objects.exists() and not AuditEntry.objects.exists()
    del data["broken"]["colour"]
    example.write_text(json.dumps(data))
    with pytest.raises(CommandError) as raised:
        flags_cmd("import", str(example))
    assert "broken.percentage" in str(raised.value) and "cyclic.prerequisites" in str(raised.value)
    assert not Flag.objects.exists()


def test_native_round_trip_through_the_commands(flags_cmd, tmp_path):
    services.create_flag("a", enabled=True, percentage=25, variants=["x", "y"])
    services.add_users("a", [str(i) for i in range(30)])
    path = tmp_path / "export.json"
    flags_cmd("export", "-o", str(path))
    exported = json.loads(path.read_text())
    assert exported["format"] == "featureflags" and len(exported["flags"][0]["users"]) == 30
    services.delete_flag("a")
    services.purge_flag("a")  # deleting archives: purged, the database is empty again
    out = flags_cmd("import", str(path))
    assert "created    a" in out
    assert Flag.objects.get(key="a").percentage == 25
    with pytest.raises(CommandError, match="not JSON"):
        bad = tmp_path / "bad.json"
        bad.write_text("{")
        flags_cmd("import", str(bad))


def test_hanoi_import_through_the_command(flags_cmd, redis_url, key_prefix):
    import redis

    client = redis.Redis.from_url(redis_url)
    client.set(f"{key_prefix}:rollout:cdc_on", "1|80||")
    client.sadd(f"{key_prefix}:rollout:users:cdc_on", "447568110000")
    args = ("import", "--format", "hanoi", "--redis-url", redis_url, "--key-prefix", f"{key_prefix}:")
    assert "created    cdc_on" in flags_cmd(*args, "--dry-run")
    assert not Flag.objects.exists()
    flags_cmd(*args)
    flag = Flag.objects.get(key="cdc_on")
    assert (flag.percentage, flag.bucketing, flag.user_entries.count()) == (80, "crc32", 1)
    assert AuditEntry.objects.filter(flag_key="cdc_on", source="import").exists()
