"""The client-side endpoint: client-side flags only, evaluated for a user the server vouches for.

Leak tests: a browser cannot see a flag not marked client-side, cannot make itself staff,
superuser or an office address, cannot ask about another user without the backend's
signature (secure mode), and never gets a reason.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from featureflags import secure_hash, services
from featureflags.store import runtime

pytestmark = pytest.mark.django_db

STAFF_ONLY = [{"attribute": "is_staff", "operator": "IN", "values": ["true"]}]


@pytest.fixture(autouse=True)
def flags():
    services.create_flag(
        "new_ui",
        enabled=True,
        percentage=0,
        client_side=True,
        rules=["^staff-"],
        constraints=[{"attribute": "region", "operator": "IN", "values": ["US"]}],
    )
    services.create_flag(
        "checkout", enabled=True, client_side=True, variants=["blue", "green"], pinned_variants={"secret-7": "green"}
    )
    services.create_flag("staff_only", enabled=True, client_side=True, constraints=STAFF_ONLY)
    services.create_flag(
        "superuser_only",
        enabled=True,
        client_side=True,
        constraints=[{"attribute": "is_superuser", "operator": "IN", "values": ["true"]}],
    )
    services.create_flag(
        "office",
        enabled=True,
        client_side=True,
        constraints=[{"attribute": "ip", "operator": "IN", "values": ["10.1.2.3"]}],
    )
    services.create_flag("ops_kill", enabled=True, kind="ops")  # not client-side: never shown to a browser
    services.add_users("new_ui", ["42", "secret-7"])
    runtime.refresh()


def signed(user_id: str) -> str:
    return f"user_id={user_id}&user_hash={secure_hash(user_id)}"


def test_only_client_side_flags_evaluated_for_the_signed_user(evaluator):
    response = evaluator.get(f"/api/flags/client?{signed('42')}&region=US")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"flags", "version"}
    assert set(body["flags"]) == {"new_ui", "checkout", "staff_only", "superuser_only", "office"}
    assert body["flags"]["new_ui"] == {"enabled": True, "variant": None, "value": True}  # 42 is on the list
    assert body["flags"]["checkout"]["variant"] in ("blue", "green")
    for result in body["flags"].values():
        assert set(result) == {"enabled", "variant", "value"}
    text = json.dumps(body)
    for secret in ("^staff-", "secret-7", "region", "TARGETED", "percentage", "rules", "users", "ops_kill", "reason"):
        assert secret not in text


def test_a_flag_not_marked_client_side_reads_as_unknown(evaluator):
    body = evaluator.get(f"/api/flags/client?keys=ops_kill,new_ui,nothing&{signed('42')}").json()
    assert body["flags"] == {
        "ops_kill": {"enabled": False, "variant": None, "value": None},  # on for everyone, but not for browsers
        "new_ui": {"enabled": True, "variant": None, "value": True},
        "nothing": {"enabled": False, "variant": None, "value": None},
    }


@pytest.mark.parametrize("query", ["user_id=42", "user_id=42&user_hash=", "user_id=42&user_hash=00ff"])
def test_a_missing_or_forged_signature_is_refused(evaluator, query):
    response = evaluator.get(f"/api/flags/client?{query}")
    assert response.status_code == 403
    assert response.json()["error"] == "permission_denied"


def test_a_signature_of_another_user_is_refused(evaluator):
    response = evaluator.get(f"/api/flags/client?user_id=secret-7&user_hash={secure_hash('42')}")
    assert response.status_code == 403


def test_signatures_use_the_configured_secret(evaluator, settings):
    old = secure_hash("42")
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "SECURE_MODE_SECRET": "rotated"}
    assert secure_hash("42") != old
    assert evaluator.get(f"/api/flags/client?user_id=42&user_hash={old}").status_code == 403
    assert evaluator.get(f"/api/flags/client?{signed('42')}").status_code == 200


def test_anonymous_ids_need_no_signature(evaluator):
    body = evaluator.get("/api/flags/client?anonymous_id=abc&keys=checkout").json()
    assert body["flags"]["checkout"]["enabled"] is True


def test_a_plain_user_cannot_make_itself_staff_superuser_or_an_office_address():
    user = User.objects.create_user("plain", password="pw")
    client = APIClient()
    client.force_login(user)
    hostile = "is_staff=true&is_superuser=true&ip=10.1.2.3&groups=admins&is_authenticated=false&user_id=42"
    body = client.get(f"/api/flags/client?{hostile}", REMOTE_ADDR="192.0.2.9").json()
    assert body["flags"]["staff_only"]["enabled"] is False
    assert body["flags"]["superuser_only"]["enabled"] is False
    assert body["flags"]["office"]["enabled"] is False
    assert body["flags"]["new_ui"]["enabled"] is False  # ?user_id=42 does not make the session user 42
    assert "ops_kill" not in body["flags"]


def test_privileged_attributes_come_from_the_server(settings):
    staff = User.objects.create_user("staffer", password="pw", is_staff=True)
    client = APIClient()
    client.force_login(staff)
    body = client.get("/api/flags/client?is_staff=false", REMOTE_ADDR="10.1.2.3").json()
    assert body["flags"]["staff_only"]["enabled"] is True
    assert body["flags"]["office"]["enabled"] is True


def test_even_an_allow_list_cannot_open_privileged_attributes(evaluator, settings):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "CLIENT_ATTRIBUTES": ["is_staff", "ip", "region"]}
    body = evaluator.get(f"/api/flags/client?{signed('7')}&is_staff=true&ip=10.1.2.3").json()
    assert body["flags"]["staff_only"]["enabled"] is False
    assert body["flags"]["office"]["enabled"] is False


def test_browser_attributes_pass_only_through_the_allow_list(evaluator, settings):
    services.create_flag(
        "us_only",
        enabled=True,
        client_side=True,
        constraints=[{"attribute": "region", "operator": "IN", "values": ["US"]}],
    )
    runtime.refresh()
    asked = f"/api/flags/client?keys=us_only&{signed('1')}&region=US"
    assert evaluator.get(asked).json()["flags"]["us_only"]["enabled"] is False  # CLIENT_ATTRIBUTES is empty
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "CLIENT_ATTRIBUTES": ["region"]}
    runtime.refresh()
    assert evaluator.get(asked).json()["flags"]["us_only"]["enabled"] is True


def project_context(request):
    return {"plan": "free"}


def test_what_the_context_callable_derives_cannot_be_overridden(evaluator, settings):
    services.create_flag(
        "pro", enabled=True, client_side=True, constraints=[{"attribute": "plan", "operator": "IN", "values": ["pro"]}]
    )
    runtime.refresh()
    settings.FEATUREFLAGS = {
        **settings.FEATUREFLAGS,
        "CONTEXT": "tests.api.test_client.project_context",
        "CLIENT_ATTRIBUTES": ["plan"],
    }
    runtime.refresh()
    body = evaluator.get(f"/api/flags/client?keys=pro&{signed('1')}&plan=pro").json()
    assert body["flags"]["pro"]["enabled"] is False


def test_session_user_is_its_own_context():
    user = User.objects.create_user("42x", password="pw")
    services.add_users("new_ui", [str(user.pk)])
    runtime.refresh()
    client = APIClient()
    client.force_login(user)
    assert client.get("/api/flags/client?keys=new_ui").json()["flags"]["new_ui"]["enabled"] is True
    services.remove_users("new_ui", [str(user.pk)])
    runtime.refresh()
    asked = f"/api/flags/client?keys=new_ui&{signed('42')}"
    assert client.get(asked).json()["flags"]["new_ui"]["enabled"] is False  # a signature for 42 changes nothing


def test_an_archived_flag_leaves_the_answer(evaluator):
    services.delete_flag("checkout")
    runtime.refresh()
    body = evaluator.get(f"/api/flags/client?{signed('1')}").json()
    assert "checkout" not in body["flags"]
    assert evaluator.get(f"/api/flags/client?keys=checkout&{signed('1')}").json()["flags"]["checkout"] == {
        "enabled": False,
        "variant": None,
        "value": None,
    }


def test_etag_and_cache_headers(evaluator):
    url = f"/api/flags/client?{signed('42')}"
    first = evaluator.get(url)
    tag = first["ETag"]
    assert first["Cache-Control"].startswith("private, max-age=")
    assert tag.startswith(f'"{first.json()["version"]}-')
    again = evaluator.get(url, HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304 and again.content == b""
    assert evaluator.get(f"/api/flags/client?{signed('43')}")["ETag"] != tag
    services.set_percentage("new_ui", 100)
    runtime.refresh()
    changed = evaluator.get(url, HTTP_IF_NONE_MATCH=tag)
    assert changed.status_code == 200 and changed["ETag"] != tag


def test_anonymous_without_key_is_refused():
    assert APIClient().get("/api/flags/client").status_code == 401


# -- the evaluate endpoint with a public key ---------------------------------------------------


def test_evaluate_with_a_public_key_gives_no_reasons_and_only_client_side_flags(evaluator):
    context = {"user_id": "42", "user_hash": secure_hash("42"), "attributes": {"is_staff": True}}
    response = evaluator.post("/api/flags/evaluate", {"context": context}, format="json")
    assert response.status_code == 200
    flags = response.json()["flags"]
    assert "ops_kill" not in flags
    assert flags["new_ui"] == {"enabled": True, "variant": None, "value": True}
    assert flags["staff_only"]["enabled"] is False  # is_staff from a public caller is ignored
    assert "reason" not in response.content.decode()


@pytest.mark.parametrize("user_hash", [None, "f" * 64, "not-hex"])
def test_evaluate_with_a_public_key_needs_the_signature(evaluator, user_hash):
    context = {"user_id": "42", **({"user_hash": user_hash} if user_hash is not None else {})}
    response = evaluator.post("/api/flags/evaluate", {"context": context}, format="json")
    assert response.status_code == 403


def test_guessing_ids_with_a_public_key_learns_nothing(evaluator):
    """The membership oracle of issue 15: guessing ids with a public key learns nothing."""
    answers = {
        evaluator.post("/api/flags/evaluate", {"context": {"user_id": str(n)}}, format="json").status_code
        for n in range(30, 60)
    }
    assert answers == {403}


def test_server_side_scopes_get_reasons_for_any_context(reader):
    body = {"keys": ["new_ui", "ops_kill"], "context": {"user_id": "42"}}
    flags = reader.post("/api/flags/evaluate", body, format="json").json()["flags"]
    assert flags["new_ui"]["reason"] == "TARGETED"
    assert flags["ops_kill"]["enabled"] is True and flags["ops_kill"]["reason"]


# -- rate limits ----------------------------------------------------------------------------------


def test_rate_limit_per_key(client_for, settings):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "RATE_LIMIT_PER_KEY": "3/min"}
    first, second = client_for("evaluate"), client_for("evaluate")
    url = f"/api/flags/client?{signed('1')}"
    assert [first.get(url).status_code for _ in range(3)] == [200, 200, 200]
    limited = first.get(url)
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 60
    assert limited.json()["error"] == "throttled"
    assert second.get(url).status_code == 200  # another key has its own count


def test_rate_limit_per_address(client_for, settings):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "RATE_LIMIT_PER_ADDRESS": "2/min"}
    url = f"/api/flags/client?{signed('1')}"
    assert client_for("evaluate").get(url, REMOTE_ADDR="192.0.2.1").status_code == 200
    assert client_for("evaluate").get(url, REMOTE_ADDR="192.0.2.1").status_code == 200
    assert client_for("evaluate").get(url, REMOTE_ADDR="192.0.2.1").status_code == 429  # a new key does not help
    assert client_for("evaluate").get(url, REMOTE_ADDR="192.0.2.2").status_code == 200


def test_server_side_tokens_are_not_rate_limited(reader, settings):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "RATE_LIMIT_PER_KEY": "1/min", "RATE_LIMIT_PER_ADDRESS": "1/min"}
    codes = [reader.post("/api/flags/evaluate", {"keys": ["new_ui"]}, format="json").status_code for _ in range(3)]
    assert codes == [200, 200, 200]


# A key is not a person: what the server knows of a key's caller is only the request itself.


def test_a_key_caller_is_not_signed_in(evaluator):
    members = [{"attribute": "is_authenticated", "operator": "IN", "values": ["true"]}]
    services.create_flag("members", enabled=True, client_side=True, constraints=members)
    assert evaluator.get("/api/flags/client?keys=members").json()["flags"]["members"]["enabled"] is False
    assert (
        evaluator.get(f"/api/flags/client?{signed('42')}&keys=members").json()["flags"]["members"]["enabled"] is False
    )


def test_secure_mode_holds_whatever_the_user_id_attribute(evaluator, settings):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "USER_ID_ATTRIBUTE": "username"}
    assert evaluator.get("/api/flags/client?user_id=bob").status_code == 403  # no signature
    body = evaluator.get(f"/api/flags/client?{signed('42')}&keys=new_ui").json()
    assert body["flags"]["new_ui"]["enabled"] is True  # 42 is on new_ui's list


def test_the_pages_anonymous_id_is_kept_for_a_key_caller(evaluator):
    services.create_flag("half", enabled=True, percentage=50, client_side=True)
    answers = {
        anonymous_id: [
            evaluator.get(f"/api/flags/client?anonymous_id={anonymous_id}&keys=half").json()["flags"]["half"]["enabled"]
            for _ in range(3)
        ]
        for anonymous_id in map(str, range(40))
    }
    assert all(len(set(seen)) == 1 for seen in answers.values())  # the same visitor, the same answer
    assert {seen[0] for seen in answers.values()} == {True, False}  # and the id, not chance, decides
