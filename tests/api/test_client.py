"""The client-side endpoint: evaluated results only, with an ETag."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from featureflags import services
from featureflags.store import runtime

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def flags():
    services.create_flag(
        "new_ui",
        enabled=True,
        percentage=0,
        rules=["^staff-"],
        constraints=[{"attribute": "region", "operator": "IN", "values": ["US"]}],
    )
    services.create_flag("checkout", enabled=True, variants=["blue", "green"], pinned_variants={"secret-7": "green"})
    services.add_users("new_ui", ["42", "secret-7"])
    runtime.refresh()


def test_only_evaluated_results_for_the_named_context(evaluator):
    response = evaluator.get("/api/flags/client?user_id=42&region=US")
    assert response.status_code == 200
    body = response.json()
    assert body["flags"]["new_ui"] == {"enabled": True, "variant": None}
    assert body["flags"]["checkout"]["enabled"] is True
    assert body["flags"]["checkout"]["variant"] in ("blue", "green")
    assert set(body) == {"flags", "version"}
    for result in body["flags"].values():
        assert set(result) == {"enabled", "variant"}
    text = json.dumps(body)
    for secret in ("^staff-", "secret-7", "region", "US", "TARGETED", "percentage", "rules", "users", "constraints"):
        assert secret not in text


def test_keys_limit_the_answer(evaluator):
    body = evaluator.get("/api/flags/client?keys=new_ui,unknown&user_id=1").json()
    assert body["flags"] == {
        "new_ui": {"enabled": False, "variant": None},
        "unknown": {"enabled": False, "variant": None},
    }


def test_session_user_is_its_own_context():
    user = User.objects.create_user("42x", password="pw")
    services.add_users("new_ui", [str(user.pk)])
    runtime.refresh()
    client = APIClient()
    client.force_login(user)
    assert client.get("/api/flags/client?keys=new_ui").json()["flags"]["new_ui"]["enabled"] is True
    # A session cannot ask about another user.
    other = client.get("/api/flags/client?keys=new_ui&user_id=secret-7").json()
    assert other["flags"]["new_ui"]["enabled"] is True  # still the session user's answer
    services.remove_users("new_ui", [str(user.pk)])
    runtime.refresh()
    assert client.get("/api/flags/client?keys=new_ui&user_id=42").json()["flags"]["new_ui"]["enabled"] is False


def test_etag_and_cache_headers(evaluator):
    first = evaluator.get("/api/flags/client?user_id=42")
    tag = first["ETag"]
    assert first["Cache-Control"].startswith("private, max-age=")
    assert tag.startswith(f'"{first.json()["version"]}-')
    again = evaluator.get("/api/flags/client?user_id=42", HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304 and again.content == b""
    assert evaluator.get("/api/flags/client?user_id=43")["ETag"] != tag
    services.set_percentage("new_ui", 100)
    runtime.refresh()
    changed = evaluator.get("/api/flags/client?user_id=42", HTTP_IF_NONE_MATCH=tag)
    assert changed.status_code == 200 and changed["ETag"] != tag


def test_anonymous_without_key_is_refused():
    assert APIClient().get("/api/flags/client").status_code in (401, 403)
