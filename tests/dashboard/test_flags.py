"""The flag list, creating a flag, the flag page (form errors, conflicts), the switch."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from featureflags import services
from featureflags.models import AuditEntry, Flag
from featureflags.serialization import flag_state, with_relations

from .conftest import login, make_operator


def shown_datetime(value):
    """What the page's datetime-local input holds for an ISO value."""
    return parse_datetime(value).strftime("%Y-%m-%dT%H:%M:%S") if value else ""


def form_data(key: str, **overrides):
    """What the flag page posts when the operator changes nothing, then ``overrides``."""
    flag = with_relations(Flag.objects).get(key=key)
    state = flag_state(flag)
    data = {
        "version": state["version"],
        "loaded": json.dumps(state),
        "percentage": state["percentage"],
        "stickiness": state["stickiness"],
        "salt": state["salt"],
        "bucketing": state["bucketing"],
        "value_type": state["value_type"],
        "environments": ", ".join(state["environments"]),
        "start_at": shown_datetime(state["start_at"]),
        "end_at": shown_datetime(state["end_at"]),
        "error_threshold": "",
        "error_window_seconds": state["error_window_seconds"],
        "performance_baseline": "",
        "performance_threshold": "",
        "description": state["description"],
        "owner": state["owner"],
        "tags": ", ".join(state["tags"]),
        "kind": state["kind"],
        "expected_lifetime_days": "",
        "pinned_variants": "",
    }
    for prefix, rows in (("variants", state["variants"]), ("constraints", []), ("prerequisites", [])):
        data[f"{prefix}-TOTAL_FORMS"] = len(rows)
        data[f"{prefix}-INITIAL_FORMS"] = len(rows)
        for i, row in enumerate(rows):
            for name, value in row.items():
                typed_text = name == "value" and state["value_type"] != "string"  # as the page shows values
                data[f"{prefix}-{i}-{name}"] = json.dumps(value) if typed_text else value
    data.update(overrides)
    return data


def test_anonymous_and_non_staff_are_sent_to_login(client, db):
    response = client.get(reverse("featureflags_dashboard:list"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    login(client, make_operator("plain", "view_flag", staff=False))
    assert client.get(reverse("featureflags_dashboard:list")).status_code == 302


def test_staff_without_view_permission_is_refused(client, db):
    login(client, make_operator("nobody"))
    assert client.get(reverse("featureflags_dashboard:list")).status_code == 403


def test_list_shows_state_in_words_owner_and_last_change(editor_client):
    services.create_flag("alpha", actor="alice", source="dashboard", owner="team-a", percentage=30, enabled=True)
    services.create_flag("beta", actor="bob", source="dashboard", owner="team-b")
    services.kill("beta", actor="carol", source="dashboard")  # no change: off already, so no audit entry
    html = editor_client.get(reverse("featureflags_dashboard:list")).content.decode()
    assert "ON · 30 %" in html and "OFF" in html
    assert "team-a" in html and "alice" in html


def test_list_filters_and_search(editor_client):
    services.create_flag("alpha", owner="team-a", enabled=True, tags=["checkout"])
    services.create_flag("beta", owner="team-b", kind="ops")

    def keys(**params):
        response = editor_client.get(reverse("featureflags_dashboard:list"), params)
        return [row[0].key for row in response.context["rows"]]

    assert keys(state="off") == ["beta"]
    assert keys(state="on") == ["alpha"]
    assert keys(kind="ops") == ["beta"]
    assert keys(owner="team-a") == ["alpha"]
    assert keys(tag="checkout") == ["alpha"]
    assert keys(q="bet") == ["beta"]


def test_create_flag_audited_as_dashboard(editor_client, editor):
    response = editor_client.post(
        reverse("featureflags_dashboard:create"), {"key": "new_ui", "kind": "release", "owner": "me"}
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(flag_key="new_ui")
    assert (entry.action, entry.actor, entry.source) == ("create", "editor", "dashboard")


def test_create_flag_bad_key_is_a_form_error(editor_client):
    response = editor_client.post(reverse("featureflags_dashboard:create"), {"key": "bad key!", "kind": "release"})
    assert response.status_code == 200
    assert "key" in response.context["form"].errors
    services.create_flag("taken")
    response = editor_client.post(reverse("featureflags_dashboard:create"), {"key": "taken", "kind": "release"})
    assert "already exists" in str(response.context["form"].errors["key"])


def test_save_changes_only_what_changed(editor_client):
    services.create_flag("f")
    url = reverse("featureflags_dashboard:detail", args=["f"])
    response = editor_client.post(url, form_data("f", percentage=30, owner="ops"))
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(flag_key="f").first()
    assert entry.action == "update" and entry.actor == "editor" and entry.source == "dashboard"
    assert set(entry.after) >= {"percentage", "owner"}
    assert entry.before["percentage"] == 100 and entry.after["percentage"] == 30
    assert Flag.objects.get(key="f").percentage == 30


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"percentage": "101"}, "percentage"),
        ({"percentage": "abc"}, "percentage"),
        ({"stickiness": ""}, "stickiness"),
        ({"error_window_seconds": "0"}, "error_window_seconds"),
        ({"pinned_variants": "no equals sign"}, "pinned_variants"),
    ],
)
def test_bad_input_is_a_field_error_and_nothing_changes(editor_client, overrides, field):
    services.create_flag("f")
    response = editor_client.post(reverse("featureflags_dashboard:detail", args=["f"]), form_data("f", **overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert Flag.objects.get(key="f").version == 2  # created at 1, bumped once at creation


def test_variant_weights_must_sum_to_100(editor_client):
    services.create_flag("f")
    data = form_data(
        "f",
        **{
            "variants-TOTAL_FORMS": 2,
            "variants-0-name": "a",
            "variants-0-weight": 50,
            "variants-1-name": "b",
            "variants-1-weight": 40,
        },
    )
    response = editor_client.post(reverse("featureflags_dashboard:detail", args=["f"]), data)
    assert response.status_code == 400
    assert "add up to 90" in str(response.context["formsets"]["variants"].non_form_errors())
    data["variants-1-weight"] = 50
    assert editor_client.post(reverse("featureflags_dashboard:detail", args=["f"]), data).status_code == 302
    assert [v.name for v in Flag.objects.get(key="f").variants.all()] == ["a", "b"]


def test_service_errors_land_on_the_row_they_name(editor_client):
    services.create_flag("f")
    data = form_data(
        "f",
        **{
            "constraints-TOTAL_FORMS": 1,
            "constraints-0-attribute": "version",
            "constraints-0-operator": "SEMVER_GT",
            "constraints-0-values": "not-a-version",
        },
    )
    response = editor_client.post(reverse("featureflags_dashboard:detail", args=["f"]), data)
    assert response.status_code == 400
    row = response.context["formsets"]["constraints"].forms[0]
    assert row.errors, response.context["section_errors"]


def test_unknown_prerequisite_is_refused_on_its_row(editor_client):
    services.create_flag("f")
    data = form_data("f", **{"prerequisites-TOTAL_FORMS": 1, "prerequisites-0-key": "missing"})
    response = editor_client.post(reverse("featureflags_dashboard:detail", args=["f"]), data)
    assert response.status_code == 400
    errors = response.context["formsets"]["prerequisites"].forms[0].errors
    assert errors or response.context["section_errors"]


def test_concurrent_edit_is_refused_with_what_changed(editor_client):
    services.create_flag("f")
    stale = form_data("f", description="mine")
    services.set_percentage("f", 10, actor="someone-else")
    response = editor_client.post(reverse("featureflags_dashboard:detail", args=["f"]), stale)
    assert response.status_code == 409
    conflict = response.context["conflict"]
    assert {"field": "percentage", "before": "100", "after": "10"} in conflict["diff"]
    assert any(row["field"] == "description" for row in conflict["yours"])
    assert Flag.objects.get(key="f").description == ""


def test_viewer_cannot_change(client, viewer):
    services.create_flag("f", enabled=True)
    login(client, viewer)
    page = client.get(reverse("featureflags_dashboard:detail", args=["f"]))
    assert page.status_code == 200 and b"Save changes" not in page.content and b'data-action="kill"' not in page.content
    assert (
        client.post(reverse("featureflags_dashboard:detail", args=["f"]), form_data("f", percentage=5)).status_code
        == 403
    )
    refused = client.post(reverse("featureflags_dashboard:switch", args=["f"]), {"enabled": "0"})
    assert refused.status_code == 403 and b"Not allowed" in refused.content
    assert Flag.objects.get(key="f").enabled is True


def test_killer_can_kill_but_not_edit_or_switch_on(client, killer):
    services.create_flag("f", enabled=True)
    login(client, killer)
    assert (
        client.post(reverse("featureflags_dashboard:detail", args=["f"]), form_data("f", percentage=5)).status_code
        == 403
    )
    assert client.post(reverse("featureflags_dashboard:switch", args=["f"]), {"enabled": "0"}).status_code == 302
    entry = AuditEntry.objects.filter(flag_key="f").first()
    assert (entry.action, entry.actor, entry.source) == ("kill", "killer", "dashboard")
    assert client.post(reverse("featureflags_dashboard:switch", args=["f"]), {"enabled": "1"}).status_code == 403
    assert Flag.objects.get(key="f").enabled is False


def test_switch_on_with_a_stale_version_is_refused(editor_client):
    flag = services.create_flag("f")
    services.set_percentage("f", 10)
    editor_client.post(reverse("featureflags_dashboard:switch", args=["f"]), {"enabled": "1", "version": flag.version})
    assert Flag.objects.get(key="f").enabled is False


def test_xss_in_description_renders_as_text(editor_client):
    services.create_flag("f", description="<script>alert(1)</script>", owner="<b>x</b>")
    for url in (reverse("featureflags_dashboard:list"), reverse("featureflags_dashboard:detail", args=["f"])):
        html = editor_client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<b>x</b>" not in html


def test_schedule_environments_and_guardrails_are_saved(editor_client):
    services.create_flag("f")
    data = form_data(
        "f",
        start_at="2030-01-02T03:04",
        end_at="2030-02-01T00:00",
        environments="production, staging",
        tags="a, b",
        error_threshold="5",
        performance_baseline="0.25",
        pinned_variants="",
    )
    assert editor_client.post(reverse("featureflags_dashboard:detail", args=["f"]), data).status_code == 302
    flag = Flag.objects.get(key="f")
    assert flag.start_at.isoformat() == "2030-01-02T03:04:00+00:00"
    assert flag.environments == ["production", "staging"] and flag.tags == ["a", "b"]
    assert (flag.error_threshold, flag.performance_baseline) == (5, 0.25)
    page = editor_client.get(reverse("featureflags_dashboard:detail", args=["f"])).content.decode()
    assert 'value="2030-01-02T03:04:00"' in page


def test_saving_another_field_keeps_a_schedule_to_the_second(editor_client):
    services.create_flag("f", start_at="2030-01-02T03:04:05+00:00", description="two\nlines ")
    data = form_data("f", owner="me")
    data["description"] = "two\r\nlines "  # as a browser sends a textarea
    response = editor_client.post(reverse("featureflags_dashboard:detail", args=["f"]), data)
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(flag_key="f").first()
    changed = {k for k in entry.after if entry.after.get(k) != entry.before.get(k)}
    assert changed == {"owner", "version"}
    assert Flag.objects.get(key="f").start_at.isoformat() == "2030-01-02T03:04:05+00:00"


def test_schedule_end_before_start_is_a_field_error(editor_client):
    services.create_flag("f")
    data = form_data("f", start_at="2030-02-01T00:00", end_at="2030-01-01T00:00")
    response = editor_client.post(reverse("featureflags_dashboard:detail", args=["f"]), data)
    assert response.status_code == 400
    assert "end_at" in response.context["form"].errors


@pytest.mark.parametrize("key", ["new", "stale", "experiments"])
def test_a_flag_named_like_a_dashboard_page_still_has_its_page(editor_client, key):
    services.create_flag(key, description="mine")
    response = editor_client.get(reverse("featureflags_dashboard:detail", args=[key]))
    assert response.status_code == 200 and response.context["flag"].key == key
    assert editor_client.get(f"/flags/checkout_{key}/").status_code == 302


def test_variant_values_are_edited_typed_by_the_value_type(editor_client):
    services.create_flag("f")
    url = reverse("featureflags_dashboard:detail", args=["f"])
    rows = {"variants-TOTAL_FORMS": 2, "variants-0-name": "a", "variants-0-weight": 50}
    rows.update({"variants-1-name": "b", "variants-1-weight": 50})
    strings = {**rows, "value_type": "string", "variants-0-value": "3", "variants-1-value": "two step"}
    assert editor_client.post(url, form_data("f", **strings)).status_code == 302
    flag = Flag.objects.get(key="f")
    assert flag.value_type == "string"
    assert [v.value for v in flag.variants.all()] == ["3", "two step"]  # text as typed
    page = editor_client.get(url).content.decode()
    assert 'name="variants-1-value" value="two step"' in page and ">Value type<" in page
    assert editor_client.post(url, form_data("f")).status_code == 302  # unchanged: no new version
    assert Flag.objects.get(key="f").version == flag.version
    numbers = {**rows, "value_type": "number", "variants-0-value": "2.5", "variants-1-value": "wide"}
    response = editor_client.post(url, form_data("f", **numbers))
    assert response.status_code == 400
    assert "finite number" in str(response.context["formsets"]["variants"].forms[1].errors)
    assert Flag.objects.get(key="f").value_type == "string"
    objects = {**rows, "value_type": "json", "variants-0-value": '{"cols": 2}', "variants-1-value": "[1, 2]"}
    assert editor_client.post(url, form_data("f", **objects)).status_code == 302
    assert [v.value for v in Flag.objects.get(key="f").variants.all()] == [{"cols": 2}, [1, 2]]
    assert editor_client.post(url, form_data("f")).status_code == 302
    assert Flag.objects.get(key="f").variants.first().value == {"cols": 2}
