"""The stale-flags view lists what featureflags.hygiene finds, with its reasons."""

from __future__ import annotations

from django.urls import reverse

from featureflags import services


def keys(client, days):
    page = client.get(reverse("featureflags_dashboard:stale"), {"days": days})
    assert page.status_code == 200
    return [item.flag.key for item, _css, _words in page.context["rows"]], page


def test_stale_view_lists_flags_unchanged_for_the_days_asked(editor_client):
    services.create_flag("fully_on", enabled=True)
    services.create_flag("ramping", enabled=True, percentage=30)
    found, page = keys(editor_client, "0")
    assert "fully_on" in found and "ramping" not in found
    assert "fully on and unchanged" in page.content.decode()
    assert keys(editor_client, "30")[0] == []  # changed today


def test_bad_days_fall_back_to_the_default(editor_client):
    assert keys(editor_client, "abc")[1].context["days"] == 30
