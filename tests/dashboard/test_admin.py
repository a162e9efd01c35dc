"""The Django admin for flags: writes through the services (source "admin"), actions one flag at a time."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from featureflags import services
from featureflags.models import AuditEntry, Flag, FlagUser

from .conftest import login

INLINES = ("rules", "variants", "constraints", "prerequisites", "pinned_variants")


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", password="x"))
    return client


def admin_data(flag: Flag | None = None, **overrides):
    data = {
        "key": flag.key if flag else "",
        "percentage": flag.percentage if flag else 100,
        "description": flag.description if flag else "",
        "owner": flag.owner if flag else "",
        "kind": flag.kind if flag else "release",
        "tags": "[]",
        "environments": "[]",
        "metadata": "{}",
        "stickiness": "default",
        "salt": "",
        "bucketing": "murmur3",
        "value_type": flag.value_type if flag else "boolean",
        "error_window_seconds": 300,
        "expected_version": flag.version if flag else "",
    }
    if flag and flag.enabled:
        data["enabled"] = "on"
    for prefix in INLINES:
        data[f"{prefix}-TOTAL_FORMS"] = 0
        data[f"{prefix}-INITIAL_FORMS"] = 0
    data.update(overrides)
    return data


def test_add_through_the_admin_is_a_service_write(admin_client):
    data = admin_data(
        key="new_ui",
        percentage=30,
        **{
            "rules-TOTAL_FORMS": 1,
            "rules-0-pattern": "01$",
            "variants-TOTAL_FORMS": 1,
            "variants-0-name": "a",
            "variants-0-weight": 1,
        },
    )
    response = admin_client.post(reverse("admin:featureflags_flag_add"), data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    flag = Flag.objects.get(key="new_ui")
    assert flag.percentage == 30 and [r.pattern for r in flag.rules.all()] == ["01$"]
    entry = AuditEntry.objects.get(flag_key="new_ui")
    assert (entry.action, entry.actor, entry.source) == ("create", "root", "admin")
    assert entry.after["rules"] == ["01$"]


def test_bad_rule_is_shown_on_its_row_and_nothing_changes(admin_client):
    flag = services.create_flag("f")
    data = admin_data(flag, **{"rules-TOTAL_FORMS": 1, "rules-0-pattern": "(unclosed"})
    response = admin_client.post(reverse("admin:featureflags_flag_change", args=[flag.pk]), data)
    assert response.status_code == 200
    rules_formset = next(fs for fs in response.context["inline_admin_formsets"] if fs.formset.prefix == "rules")
    assert rules_formset.formset.forms[0].errors
    assert Flag.objects.get(key="f").version == flag.version


def test_bad_percentage_is_a_field_error(admin_client):
    flag = services.create_flag("f")
    response = admin_client.post(
        reverse("admin:featureflags_flag_change", args=[flag.pk]), admin_data(flag, percentage=101)
    )
    assert response.status_code == 200
    assert "percentage" in response.context["adminform"].form.errors


def test_saving_unchanged_is_not_a_change(admin_client):
    flag = services.create_flag("f", description="two\nlines", start_at="2030-01-02T03:04:05+00:00")
    data = admin_data(flag, **{"start_at_0": "2030-01-02", "start_at_1": "03:04:05"})
    data["description"] = "two\r\nlines"
    assert admin_client.post(reverse("admin:featureflags_flag_change", args=[flag.pk]), data).status_code == 302
    assert AuditEntry.objects.filter(flag_key="f").count() == 1  # only the creation
    assert Flag.objects.get(key="f").version == flag.version


def test_change_then_stale_change_is_refused(admin_client):
    flag = services.create_flag("f")
    url = reverse("admin:featureflags_flag_change", args=[flag.pk])
    assert admin_client.post(url, admin_data(flag, owner="team")).status_code == 302
    assert AuditEntry.objects.filter(flag_key="f").first().source == "admin"
    response = admin_client.post(url, admin_data(flag, owner="someone-else"))  # still the old version
    assert response.status_code == 200
    assert "changed by someone else" in str(response.context["adminform"].form.non_field_errors())
    assert Flag.objects.get(key="f").owner == "team"


def test_actions_go_through_the_services_one_flag_at_a_time(admin_client):
    a, b = services.create_flag("a"), services.create_flag("b")
    changelist = reverse("admin:featureflags_flag_changelist")
    admin_client.post(changelist, {"action": "switch_on", "_selected_action": [a.pk, b.pk]})
    assert set(Flag.objects.filter(enabled=True).values_list("key", flat=True)) == {"a", "b"}
    admin_client.post(changelist, {"action": "kill_switch", "_selected_action": [a.pk]})
    assert not Flag.objects.get(key="a").enabled
    kills = AuditEntry.objects.filter(action="kill")
    assert [(e.flag_key, e.source, e.actor) for e in kills] == [("a", "admin", "root")]
    assert AuditEntry.objects.filter(action="enable", source="admin").count() == 2


def test_kill_only_operator_gets_only_the_kill_action(client, killer):
    flag = services.create_flag("f", enabled=True)
    login(client, killer)
    changelist = client.get(reverse("admin:featureflags_flag_changelist"))
    actions = [value for value, _label in changelist.context["action_form"].fields["action"].choices]
    assert "kill_switch" in actions and "switch_on" not in actions
    client.post(reverse("admin:featureflags_flag_changelist"), {"action": "kill_switch", "_selected_action": [flag.pk]})
    assert not Flag.objects.get(key="f").enabled
    response = client.post(reverse("admin:featureflags_flag_change", args=[flag.pk]), admin_data(flag, owner="x"))
    assert response.status_code == 403


def test_user_list_is_paginated_and_removal_is_a_service_write(admin_client):
    services.create_flag("f")
    services.add_users("f", [str(i) for i in range(250)])
    response = admin_client.get(reverse("admin:featureflags_flaguser_changelist"), {"flag": "f"})
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 100
    pks = list(FlagUser.objects.filter(user_id__in=["1", "2"]).values_list("pk", flat=True))
    admin_client.post(
        reverse("admin:featureflags_flaguser_changelist"),
        {"action": "delete_selected", "_selected_action": pks, "post": "yes"},
    )
    assert FlagUser.objects.filter(flag__key="f").count() == 248
    entry = AuditEntry.objects.filter(flag_key="f").first()
    assert (entry.action, entry.source) == ("remove_users", "admin")


def test_flag_change_page_does_not_load_the_user_list(admin_client):
    flag = services.create_flag("f")
    services.add_users("f", [str(i) for i in range(3000)])
    response = admin_client.get(reverse("admin:featureflags_flag_change", args=[flag.pk]))
    html = response.content.decode()
    assert "3000 users" in html and "2999" not in html


def test_prerequisite_error_lands_on_the_parent_field_of_its_row(admin_client):
    parent = services.create_flag("parent", variants=[{"name": "a", "weight": 100}])
    flag = services.create_flag("f")
    data = admin_data(
        flag,
        **{"prerequisites-TOTAL_FORMS": 1, "prerequisites-0-parent": parent.pk, "prerequisites-0-variant": "zzz"},
    )
    response = admin_client.post(reverse("admin:featureflags_flag_change", args=[flag.pk]), data)
    assert response.status_code == 200
    formset = next(fs for fs in response.context["inline_admin_formsets"] if fs.formset.prefix == "prerequisites")
    assert "variant" in formset.formset.forms[0].errors
    assert Flag.objects.get(key="f").version == flag.version


def test_a_whole_section_error_is_shown_on_the_form(admin_client):
    flag = services.create_flag("f")
    data = admin_data(
        flag,
        **{"variants-TOTAL_FORMS": 1, "variants-0-name": "a", "variants-0-weight": 0},
    )
    response = admin_client.post(reverse("admin:featureflags_flag_change", args=[flag.pk]), data)
    assert response.status_code == 200
    assert any(e.startswith("variants") for e in response.context["adminform"].form.non_field_errors())
    assert not Flag.objects.get(key="f").variants.exists()


def test_an_editor_with_only_the_flag_permissions_edits_rows(client, db):
    from django.contrib.auth.models import Permission

    editor = User.objects.create_user("ed", password="x", is_staff=True)
    editor.user_permissions.set(Permission.objects.filter(codename__in=["view_flag", "change_flag"]))
    client.force_login(editor)
    flag = services.create_flag("f")
    data = admin_data(flag, **{"rules-TOTAL_FORMS": 1, "rules-0-pattern": "^7"})
    assert client.post(reverse("admin:featureflags_flag_change", args=[flag.pk]), data).status_code == 302
    assert [r.pattern for r in Flag.objects.get(key="f").rules.all()] == ["^7"]
    assert AuditEntry.objects.filter(flag_key="f").first().actor == "ed"


def test_the_admin_edits_the_value_type_and_variant_values(admin_client):
    data = admin_data(
        key="layout",
        value_type="string",
        **{"variants-TOTAL_FORMS": 1, "variants-0-name": "a", "variants-0-weight": 1, "variants-0-value": '"wide"'},
    )
    assert admin_client.post(reverse("admin:featureflags_flag_add"), data).status_code == 302
    flag = Flag.objects.get(key="layout")
    assert (flag.value_type, flag.variants.get().value) == ("string", "wide")
    wrong = admin_data(
        key="sizes",
        value_type="number",
        **{"variants-TOTAL_FORMS": 1, "variants-0-name": "a", "variants-0-weight": 1, "variants-0-value": '"wide"'},
    )
    response = admin_client.post(reverse("admin:featureflags_flag_add"), wrong)
    assert response.status_code == 200 and not Flag.objects.filter(key="sizes").exists()
    assert "finite number" in response.content.decode()
