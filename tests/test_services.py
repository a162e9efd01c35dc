"""The service layer: validation naming fields, versions, audit, nothing half-written."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

import featureflags
from featureflags import services
from featureflags.engine import Reason
from featureflags.models import AuditEntry, Flag, FlagUser, MirrorState
from featureflags.store import runtime

pytestmark = pytest.mark.django_db


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def test_create_flag_defaults_and_audit():
    flag = services.create_flag("new_ui", actor="alice", source="dashboard", description="New UI")
    assert (flag.enabled, flag.percentage, flag.version) == (False, 100, 2)
    entry = AuditEntry.objects.get(flag_key="new_ui")
    assert (entry.actor, entry.source, entry.action) == ("alice", "dashboard", "create")
    assert entry.before is None
    assert entry.after["description"] == "New UI" and entry.after["enabled"] is False


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"percentage": 101}, "percentage"),
        ({"percentage": -1}, "percentage"),
        ({"percentage": "abc"}, "percentage"),
        ({"rules": ["(a)\\1"]}, "rules.0"),
        ({"rules": ["(?<=x)y"]}, "rules.0"),
        ({"variants": [{"name": "a", "weight": 0}, {"name": "b", "weight": 0}]}, "variants"),
        ({"variants": [{"name": "a", "weight": -1}]}, "variants.0.weight"),
        ({"constraints": [{"attribute": "region", "operator": "LIKE", "values": ["x"]}]}, "constraints.0.operator"),
        ({"constraints": [{"attribute": "v", "operator": "SEMVER_GT", "values": ["v2"]}]}, "constraints.0.values"),
        ({"prerequisites": [{"key": "missing"}]}, "prerequisites.0"),
        ({"bucketing": "md5"}, "bucketing"),
        ({"kind": "whatever"}, "kind"),
        ({"start_at": "2030-01-02T00:00:00Z", "end_at": "2030-01-01T00:00:00Z"}, "end_at"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_input_is_refused_naming_the_field(fields, field):
    with pytest.raises(ValidationError) as excinfo:
        services.create_flag("bad_flag", **fields)
    assert field in errors_of(excinfo)
    assert not Flag.objects.filter(key="bad_flag").exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("key", ["", "has space", "a" * 101, "é", "semi;colon"])
def test_malformed_keys_are_refused(key):
    with pytest.raises(ValidationError) as excinfo:
        services.create_flag(key)
    assert "key" in errors_of(excinfo)


def test_duplicate_key_is_refused():
    services.create_flag("dup")
    with pytest.raises(ValidationError) as excinfo:
        services.create_flag("dup")
    assert "key" in errors_of(excinfo)


def test_a_refused_update_changes_nothing():
    services.create_flag("f", percentage=40, rules=["^a"])
    before = Flag.objects.get(key="f")
    with pytest.raises(ValidationError):
        services.update_flag("f", {"percentage": 50, "rules": ["("]})
    after = Flag.objects.get(key="f")
    assert (after.percentage, after.version) == (40, before.version)
    assert list(after.rules.values_list("pattern", flat=True)) == ["^a"]
    assert AuditEntry.objects.filter(flag_key="f").count() == 1


def test_prerequisite_cycle_is_refused():
    services.create_flag("a")
    services.create_flag("b", prerequisites=["a"])
    services.create_flag("c", prerequisites=["b"])
    with pytest.raises(ValidationError) as excinfo:
        services.update_flag("a", {"prerequisites": ["c"]})
    assert "prerequisites" in errors_of(excinfo)
    assert "cycle" in " ".join(errors_of(excinfo)["prerequisites"])
    assert not Flag.objects.get(key="a").prerequisites.exists()


def test_required_variant_must_exist_on_the_parent():
    services.create_flag("exp", variants=["a", "b"])
    with pytest.raises(ValidationError) as excinfo:
        services.create_flag("child", prerequisites=[{"key": "exp", "variant": "c"}])
    assert "prerequisites.0.variant" in errors_of(excinfo)
    services.create_flag("child", prerequisites=[{"key": "exp", "variant": "b"}])


def test_stale_version_is_a_conflict_with_the_current_state():
    services.create_flag("f")
    version = Flag.objects.get(key="f").version
    services.update_flag("f", {"percentage": 20}, expected_version=version, actor="alice")
    with pytest.raises(services.FlagConflict) as excinfo:
        services.update_flag("f", {"percentage": 30}, expected_version=version, actor="bob")
    assert excinfo.value.current["percentage"] == 20
    assert excinfo.value.current["version"] == version + 1
    assert Flag.objects.get(key="f").percentage == 20


def test_update_records_before_and_after_and_raises_versions():
    services.create_flag("f")
    mirror_before = MirrorState.objects.get(pk=1).version
    services.update_flag("f", {"enabled": True, "percentage": 30}, actor="carol", source="api")
    entry = AuditEntry.objects.filter(flag_key="f").first()
    assert (entry.action, entry.actor, entry.source) == ("update", "carol", "api")
    assert (entry.before["percentage"], entry.after["percentage"]) == (100, 30)
    assert (entry.before["enabled"], entry.after["enabled"]) == (False, True)
    assert MirrorState.objects.get(pk=1).version == mirror_before + 1
    assert Flag.objects.get(key="f").mirror_version == mirror_before + 1


def test_an_update_that_changes_nothing_is_not_audited():
    services.create_flag("f", percentage=30)
    services.update_flag("f", {"percentage": "30"})
    assert AuditEntry.objects.filter(flag_key="f").count() == 1


def test_kill_and_enable_are_audited_with_their_actions():
    services.create_flag("f", enabled=True)
    services.kill("f", actor="oncall")
    services.set_enabled("f", True, actor="oncall")
    assert list(AuditEntry.objects.filter(flag_key="f").values_list("action", flat=True)) == [
        "enable",
        "kill",
        "create",
    ]


def test_users_are_added_removed_and_counted_without_duplicates():
    services.create_flag("f")
    assert services.add_users("f", [1, 2, "3", "3"]) == 3
    assert services.add_users("f", ["3", "4"]) == 1
    assert services.remove_users("f", ["1", "404"]) == 1
    assert sorted(FlagUser.objects.filter(flag__key="f").values_list("user_id", flat=True)) == ["2", "3", "4"]
    actions = list(AuditEntry.objects.filter(flag_key="f").values_list("action", flat=True))
    assert actions[:3] == ["remove_users", "add_users", "add_users"]


def test_a_bad_id_in_a_bulk_add_leaves_the_list_unchanged():
    services.create_flag("f")
    services.add_users("f", ["keep"])
    ids = [str(i) for i in range(12_000)] + [""]
    with pytest.raises(ValidationError) as excinfo:
        services.replace_users("f", ids)
    assert "line 12001" in " ".join(errors_of(excinfo)["users"])
    assert list(FlagUser.objects.filter(flag__key="f").values_list("user_id", flat=True)) == ["keep"]


def test_excluded_users_are_a_separate_list():
    services.create_flag("f", enabled=True)
    services.add_users("f", ["42"], excluded=True)
    services.add_users("f", ["42", "43"])
    runtime.refresh()
    assert featureflags.evaluate("f", "42").reason is Reason.EXCLUDED
    assert featureflags.evaluate("f", "43").reason is Reason.TARGETED


def test_delete_refuses_a_flag_others_depend_on():
    services.create_flag("parent")
    services.create_flag("child", prerequisites=["parent"])
    with pytest.raises(ValidationError):
        services.delete_flag("parent")
    services.delete_flag("child", actor="dave")
    assert not Flag.objects.filter(key="child").exists()
    assert AuditEntry.objects.filter(flag_key="child", action="delete").get().before["key"] == "child"


def test_restore_state_reverts_and_is_audited():
    services.create_flag("f", percentage=10, rules=["^a"])
    services.update_flag("f", {"percentage": 90, "rules": []})
    old = AuditEntry.objects.get(flag_key="f", action="create").after
    services.restore_state("f", old, actor="erin", source="dashboard")
    flag = Flag.objects.get(key="f")
    assert flag.percentage == 10
    assert list(flag.rules.values_list("pattern", flat=True)) == ["^a"]
    assert AuditEntry.objects.filter(flag_key="f").first().action == "revert"


def test_unknown_flag_raises_not_found():
    with pytest.raises(services.FlagNotFound):
        services.update_flag("nope", {"enabled": True})


def test_audit_log_is_append_only():
    services.create_flag("f")
    entry = AuditEntry.objects.get(flag_key="f")
    entry.note = "rewritten"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.update(note="x")


class TestApplyDefinitions:
    def test_all_or_nothing_with_every_error_listed(self):
        services.create_flag("existing", percentage=5)
        definitions = {
            "ok": {"enabled": True},
            "bad_pct": {"percentage": 300},
            "bad_rule": {"rules": ["(a)\\1"]},
            "orphan": {"prerequisites": ["missing"]},
            "existing": {"percentage": 50},
        }
        with pytest.raises(ValidationError) as excinfo:
            services.apply_definitions(definitions, actor="import")
        fields = errors_of(excinfo)
        assert {"bad_pct.percentage", "bad_rule.rules.0", "orphan.prerequisites.0"} <= set(fields)
        assert not Flag.objects.filter(key="ok").exists()
        assert Flag.objects.get(key="existing").percentage == 5

    def test_dry_run_reports_and_changes_nothing(self):
        services.create_flag("same", percentage=5)
        services.create_flag("changed", percentage=5)
        report = services.apply_definitions(
            {"same": {"percentage": 5}, "changed": {"percentage": 6}, "new": {}}, dry_run=True
        )
        assert report == {"same": "unchanged", "changed": "updated", "new": "created"}
        assert not Flag.objects.filter(key="new").exists()
        assert Flag.objects.get(key="changed").percentage == 5

    def test_apply_with_prerequisites_between_new_flags_and_lists(self):
        report = services.apply_definitions(
            {
                "child": {"enabled": True, "prerequisites": ["parent"], "users": [1, 2]},
                "parent": {"enabled": True},
            },
            source_detail="flags.json",
        )
        assert report == {"child": "created", "parent": "created"}
        assert FlagUser.objects.filter(flag__key="child").count() == 2
        entry = AuditEntry.objects.get(flag_key="child")
        assert (entry.source, entry.source_detail, entry.action) == ("import", "flags.json", "import")
        runtime.refresh()
        assert featureflags.evaluate("child", "1").reason is Reason.TARGETED
