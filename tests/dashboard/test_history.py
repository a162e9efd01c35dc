"""History: audit entries with before/after diffs, and revert (itself audited)."""

from __future__ import annotations

from django.urls import reverse

from featureflags import services
from featureflags.models import AuditEntry, Flag

from .conftest import login


def test_history_shows_diffs(editor_client):
    services.create_flag("f", actor="alice")
    services.set_percentage("f", 30, actor="bob")
    services.add_users("f", ["1", "2"], actor="carol")
    response = editor_client.get(reverse("featureflags_dashboard:history", args=["f"]))
    rows = response.context["rows"]
    assert [r["entry"].action for r in rows] == ["add_users", "set_percentage", "create"]
    assert {"field": "percentage", "before": "100", "after": "30"} in rows[1]["diff"]
    assert rows[0]["diff"][0]["field"] == "users" and not rows[0]["restorable"]
    assert rows[2]["restorable"] and rows[1]["restorable"]
    services.set_percentage("f", 40)
    rows = editor_client.get(reverse("featureflags_dashboard:history", args=["f"])).context["rows"]
    assert rows[0]["restorable"] is False  # already the current version


def test_revert_restores_an_earlier_state_and_is_audited(editor_client):
    services.create_flag("f")
    services.set_percentage("f", 30)
    target = AuditEntry.objects.get(flag_key="f", action="set_percentage")
    services.set_enabled("f", True)
    services.set_percentage("f", 60)
    flag = Flag.objects.get(key="f")
    response = editor_client.post(
        reverse("featureflags_dashboard:revert", args=["f", target.pk]), {"version": flag.version}
    )
    assert response.status_code == 302
    flag.refresh_from_db()
    assert (flag.enabled, flag.percentage) == (False, 30)
    entry = AuditEntry.objects.filter(flag_key="f").first()
    assert (entry.action, entry.actor, entry.source) == ("revert", "editor", "dashboard")
    assert f"audit entry {target.pk}" in entry.note


def test_revert_with_a_stale_version_is_refused(editor_client):
    services.create_flag("f")
    first = AuditEntry.objects.get(flag_key="f")
    flag = services.set_percentage("f", 30)
    services.set_percentage("f", 40)
    response = editor_client.post(
        reverse("featureflags_dashboard:revert", args=["f", first.pk]), {"version": flag.version}, follow=True
    )
    assert "Not reverted" in response.content.decode()
    assert Flag.objects.get(key="f").percentage == 40


def test_viewer_cannot_revert(client, viewer):
    services.create_flag("f")
    services.set_percentage("f", 30)
    first = AuditEntry.objects.filter(flag_key="f").last()
    login(client, viewer)
    version = Flag.objects.get(key="f").version
    assert (
        client.post(reverse("featureflags_dashboard:revert", args=["f", first.pk]), {"version": version}).status_code
        == 403
    )
