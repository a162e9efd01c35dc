"""Rules: add and remove through the services, RE2 errors on the field, the live tester."""

from __future__ import annotations

from django.urls import reverse

from featureflags import services
from featureflags.models import AuditEntry, Flag

from .conftest import login


def rules(key):
    return [r.pattern for r in Flag.objects.get(key=key).rules.all()]


def test_add_and_remove_rules(editor_client):
    flag = services.create_flag("f")
    url = reverse("featureflags_dashboard:rules", args=["f"])
    assert editor_client.post(url, {"action": "add", "pattern": "01$", "version": flag.version}).status_code == 302
    version = Flag.objects.get(key="f").version
    editor_client.post(url, {"action": "add", "pattern": "^9", "version": version})
    assert rules("f") == ["01$", "^9"]
    editor_client.post(url, {"action": "remove", "index": "0", "version": Flag.objects.get(key="f").version})
    assert rules("f") == ["^9"]
    entry = AuditEntry.objects.filter(flag_key="f").first()
    assert (entry.action, entry.source, entry.actor) == ("update_rules", "dashboard", "editor")


def test_invalid_pattern_is_a_field_error(editor_client):
    flag = services.create_flag("f")
    response = editor_client.post(
        reverse("featureflags_dashboard:rules", args=["f"]), {"action": "add", "pattern": "(a", "version": flag.version}
    )
    assert response.status_code == 400
    assert "not a valid RE2" in response.context["error"]
    assert 'value="(a"' in response.content.decode()  # what was typed stays in the box
    assert rules("f") == []


def test_stale_version_is_refused(editor_client):
    flag = services.create_flag("f")
    services.update_flag("f", {"rules": ["x"]})
    response = editor_client.post(
        reverse("featureflags_dashboard:rules", args=["f"]),
        {"action": "add", "pattern": "y", "version": flag.version},
        follow=True,
    )
    assert "changed by someone else" in response.content.decode()
    assert rules("f") == ["x"]


def test_tester_marks_matching_ids(editor_client):
    services.create_flag("f", rules=["01$"])
    url = reverse("featureflags_dashboard:rules_test", args=["f"])
    data = editor_client.post(url, {"ids": "443301\n444401\n12345\n", "pattern": "^12"}).json()
    assert data["results"] == [
        {"id": "443301", "matches": ["rule 1"]},
        {"id": "444401", "matches": ["rule 1"]},
        {"id": "12345", "matches": ["the new pattern"]},
    ]
    data = editor_client.post(url, {"ids": "1", "pattern": "(bad"}).json()
    assert "not valid" in data["error"] and data["results"] == [{"id": "1", "matches": []}]


def test_viewer_may_test_but_not_change(client, viewer):
    flag = services.create_flag("f", rules=["1"])
    login(client, viewer)
    assert client.post(reverse("featureflags_dashboard:rules_test", args=["f"]), {"ids": "1"}).json()["results"][0][
        "matches"
    ]
    url = reverse("featureflags_dashboard:rules", args=["f"])
    assert client.post(url, {"action": "add", "pattern": "2", "version": flag.version}).status_code == 403


def test_rule_xss_renders_as_text(editor_client):
    services.create_flag("f", rules=["<script>alert(1)</script>"])
    html = editor_client.get(reverse("featureflags_dashboard:rules", args=["f"])).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
