"""The flag subcommands: each writes through the services with source cli and the actor."""

from __future__ import annotations

import json

import pytest
from django.core.management.base import CommandError

from featureflags import services
from featureflags.models import AuditEntry, Flag, FlagUser


def test_create_show_list(flags_cmd):
    flags_cmd("create", "new_ui", "--enabled", "--percentage", "30", "--set", 'tags=["web"]')
    shown = json.loads(flags_cmd("show", "new_ui", "--json"))
    assert shown["enabled"] is True and shown["percentage"] == 30 and shown["tags"] == ["web"]
    entry = AuditEntry.objects.get(flag_key="new_ui")
    assert (entry.source, entry.actor, entry.action) == ("cli", "tester", "create")
    assert "new_ui" in flags_cmd("list")
    assert [f["key"] for f in json.loads(flags_cmd("list", "--json"))] == ["new_ui"]


def test_bad_input_names_the_field(flags_cmd):
    with pytest.raises(CommandError, match="percentage"):
        flags_cmd("create", "x", "--percentage", "150")
    assert not Flag.objects.exists()
    with pytest.raises(CommandError, match="No flag"):
        flags_cmd("enable", "missing")


def test_enable_disable_kill_set_percentage(flags_cmd):
    services.create_flag("f")
    flags_cmd("enable", "f")
    assert Flag.objects.get(key="f").enabled
    flags_cmd("set-percentage", "f", "40")
    assert Flag.objects.get(key="f").percentage == 40
    flags_cmd("disable", "f")
    flags_cmd("enable", "f")
    flags_cmd("kill", "f", "--note", "errors spiking")
    assert not Flag.objects.get(key="f").enabled
    kill = AuditEntry.objects.filter(flag_key="f", action="kill").get()
    assert (kill.source, kill.note) == ("cli", "errors spiking")
    with pytest.raises(CommandError, match="version"):
        flags_cmd("enable", "f", "--expect-version", "1")


def test_add_and_remove_users(flags_cmd, tmp_path):
    services.create_flag("f", enabled=True)
    flags_cmd("add-users", "f", "1", "2")
    path = tmp_path / "ids.txt"
    path.write_text("".join(f"u{i}\n" for i in range(20_000)))
    flags_cmd("add-users", "f", "--file", str(path), "--no-progress")
    assert FlagUser.objects.filter(flag__key="f").count() == 20_002
    flags_cmd("remove-users", "f", "1", "u5")
    flags_cmd("add-users", "f", "9", "--excluded")
    assert FlagUser.objects.filter(flag__key="f", excluded=False).count() == 20_000
    assert FlagUser.objects.filter(flag__key="f", excluded=True).count() == 1
    with pytest.raises(CommandError):
        flags_cmd("add-users", "f")


def test_add_rule_and_explain(flags_cmd):
    services.create_flag("f", enabled=True, percentage=0)
    flags_cmd("add-rule", "f", "00$")
    assert "already" in flags_cmd("add-rule", "f", "00$")
    with pytest.raises(CommandError, match="rules"):
        flags_cmd("add-rule", "f", "(unclosed")
    explained = json.loads(flags_cmd("explain", "f", "--user", "4400", "--json"))
    assert explained["enabled"] is True and explained["reason"] == "RULE"
    text = flags_cmd("explain", "f", "--user", "4401")
    assert text.startswith("f: OFF (NO_MATCH)")


def test_tokens(flags_cmd):
    created = json.loads(flags_cmd("tokens", "create", "ci", "--scope", "write", "--json"))
    assert created["token"].startswith("ff_") and created["scope"] == "write"
    listed = json.loads(flags_cmd("tokens", "list", "--json"))
    assert listed[0]["name"] == "ci" and created["token"] not in json.dumps(listed)
    flags_cmd("tokens", "revoke", "ci")
    from featureflags.api.models import ApiToken

    assert ApiToken.objects.authenticate(created["token"]) is None
    with pytest.raises(CommandError):
        flags_cmd("tokens", "create", "ci")


def test_tokens_without_the_api_app_say_what_to_add(flags_cmd, settings):
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "featureflags.api"]
    with pytest.raises(CommandError, match=r"featureflags\[api\].*\"featureflags\.api\" to INSTALLED_APPS"):
        flags_cmd("tokens", "list")


def test_add_users_from_a_file_without_tqdm(flags_cmd, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):  # the core install has no tqdm
        if name == "tqdm":
            raise ImportError("No module named 'tqdm'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    flags_cmd("create", "new_ui")
    ids = tmp_path / "ids.txt"
    ids.write_text("1\n2\n\n3\n")
    assert "Added 3 id(s)" in flags_cmd("add-users", "new_ui", "--file", str(ids))
    assert sorted(FlagUser.objects.values_list("user_id", flat=True)) == ["1", "2", "3"]


def test_create_with_a_value_type_and_show_the_values(flags_cmd):
    flags_cmd("create", "layout", "--enabled", "--value-type", "string", "--variant", "a=3", "--variant", "b=two step")
    flag = Flag.objects.get(key="layout")
    assert flag.value_type == "string"
    assert [(v.name, v.value) for v in flag.variants.all()] == [("a", "3"), ("b", "two step")]  # text as written
    shown = flags_cmd("show", "layout")
    assert "value_type               string" in shown
    assert '  a (weight 1) = "3"' in shown and '  b (weight 1) = "two step"' in shown
    flags_cmd("create", "size", "--value-type", "number", "--variant", "s=0.5", "--variant", "l=40")
    assert json.loads(flags_cmd("show", "size", "--json"))["variants"] == [
        {"name": "s", "weight": 1, "value": 0.5},
        {"name": "l", "weight": 1, "value": 40},
    ]
    with pytest.raises(CommandError, match=r"variants\.0\.value"):
        flags_cmd("create", "bad", "--value-type", "number", "--variant", "a=wide")
    assert not Flag.objects.filter(key="bad").exists()
