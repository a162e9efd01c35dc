"""OFREP (featureflags/api/ofrep.py): shapes, error codes, the public rules, ETag and 304, keys, rate limits."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

import featureflags
from featureflags import secure_hash, services
from featureflags.store import runtime

pytestmark = pytest.mark.django_db

ONE = "/api/ofrep/v1/evaluate/flags/"
BULK = "/api/ofrep/v1/evaluate/flags"


@pytest.fixture
def flags():
    services.create_flag("new_ui", enabled=True, percentage=100, client_side=True, actor="test")
    services.create_flag("secret_beta", enabled=True, percentage=100, actor="test")  # server-side only
    services.create_flag("killed", enabled=False, client_side=True, actor="test")
    services.create_flag("ab", enabled=True, variants=["control", "treatment"], client_side=True, actor="test")
    services.create_flag("vip", enabled=True, percentage=0, client_side=True, actor="test")
    services.add_users("vip", ["42"])
    runtime.refresh()


def post(client, url, context, **headers):
    return client.post(url, {"context": context}, format="json", **headers)


def test_one_flag_for_a_server_token(reader, flags):
    response = post(reader, ONE + "vip", {"targetingKey": "42", "region": "US"})
    assert response.status_code == 200
    assert response.json() == {
        "key": "vip",
        "value": True,
        "reason": "TARGETING_MATCH",
        "variant": "on",
        "metadata": {"featureflagsReason": "TARGETED", "enabled": True},
    }
    other = post(reader, ONE + "vip", {"targetingKey": "7"}).json()
    assert other["value"] is False and other["variant"] == "off"
    assert post(reader, ONE + "killed", {"targetingKey": "7"}).json()["reason"] == "DISABLED"
    # A server token sees server-side flags too.
    assert post(reader, ONE + "secret_beta", {"targetingKey": "7"}).json()["value"] is True


def test_variants_are_the_variant_and_the_same_as_the_python_api(reader, flags):
    for user in map(str, range(40)):
        body = post(reader, ONE + "ab", {"targetingKey": user}).json()
        assert body["variant"] == featureflags.variant("ab", user)
        assert body["value"] is featureflags.is_enabled("ab", user)


def test_error_codes_and_statuses(reader, flags):
    missing = post(reader, ONE + "nope", {"targetingKey": "1"})
    assert missing.status_code == 404
    assert missing.json() == {
        "key": "nope",
        "errorCode": "FLAG_NOT_FOUND",
        "errorDetails": "Flag 'nope' was not found.",
    }
    no_key = post(reader, ONE + "new_ui", {"region": "US"})
    assert no_key.status_code == 400 and no_key.json()["errorCode"] == "TARGETING_KEY_MISSING"
    assert no_key.json()["key"] == "new_ui"
    assert reader.post(ONE + "new_ui", {}, format="json").json()["errorCode"] == "TARGETING_KEY_MISSING"
    not_object = reader.post(ONE + "new_ui", {"context": "42"}, format="json")
    assert not_object.status_code == 400 and not_object.json()["errorCode"] == "INVALID_CONTEXT"
    nested = post(reader, ONE + "new_ui", {"targetingKey": "1", "plan": {"tier": 1}})
    assert nested.status_code == 400 and nested.json()["errorCode"] == "INVALID_CONTEXT"
    assert "context.plan" in nested.json()["errorDetails"]
    wrong_key_type = post(reader, ONE + "new_ui", {"targetingKey": 42})
    assert wrong_key_type.json()["errorCode"] == "INVALID_CONTEXT"
    garbage = reader.post(ONE + "new_ui", "{not json", content_type="application/json")
    assert garbage.status_code == 400 and garbage.json()["errorCode"] == "PARSE_ERROR"
    a_list = reader.post(BULK, [1, 2], format="json")
    assert a_list.status_code == 400 and a_list.json()["errorCode"] == "PARSE_ERROR"
    bulk_no_key = reader.post(BULK, {"context": {}}, format="json")
    assert bulk_no_key.status_code == 400 and bulk_no_key.json()["errorCode"] == "TARGETING_KEY_MISSING"
    assert "key" not in bulk_no_key.json()


def test_bulk_for_a_server_token_has_every_flag(reader, flags):
    response = post(reader, BULK, {"targetingKey": "42"})
    assert response.status_code == 200
    by_key = {f["key"]: f for f in response.json()["flags"]}
    assert sorted(by_key) == ["ab", "killed", "new_ui", "secret_beta", "vip"]
    assert by_key["vip"]["value"] is True and by_key["killed"]["value"] is False
    assert response["ETag"].startswith('"')


def test_bulk_etag_and_304(reader, flags):
    first = post(reader, BULK, {"targetingKey": "42"})
    tag = first["ETag"]
    again = post(reader, BULK, {"targetingKey": "42"}, HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == tag
    # Another user's answer differs (vip), so its tag does.
    assert post(reader, BULK, {"targetingKey": "7"}, HTTP_IF_NONE_MATCH=tag).status_code == 200
    # A change to a flag changes the answer: a full 200 with a new tag.
    services.update_flag("new_ui", {"enabled": False}, actor="test")
    runtime.refresh()
    changed = post(reader, BULK, {"targetingKey": "42"}, HTTP_IF_NONE_MATCH=tag)
    assert changed.status_code == 200 and changed["ETag"] != tag
    # A change the answer does not show (a description) keeps the tag: nothing to refetch.
    services.update_flag("new_ui", {"description": "quiet"}, actor="test")
    runtime.refresh()
    assert post(reader, BULK, {"targetingKey": "42"}, HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 304


def test_public_key_sees_client_side_flags_only_and_no_metadata(evaluator, flags):
    response = post(evaluator, BULK, {"targetingKey": "42", "userHash": secure_hash("42")})
    assert response.status_code == 200
    by_key = {f["key"]: f for f in response.json()["flags"]}
    assert sorted(by_key) == ["ab", "killed", "new_ui", "vip"]  # not secret_beta
    assert by_key["vip"]["value"] is True  # the signed user is targeted
    assert all(f["metadata"] == {} for f in by_key.values())
    # A server-side flag reads exactly like an unknown one.
    hidden = post(evaluator, ONE + "secret_beta", {"targetingKey": "42", "userHash": secure_hash("42")})
    unknown = post(evaluator, ONE + "nope", {"targetingKey": "42", "userHash": secure_hash("42")})
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["errorCode"] == unknown.json()["errorCode"] == "FLAG_NOT_FOUND"


def test_public_key_secure_mode(evaluator, flags):
    forged = post(evaluator, ONE + "vip", {"targetingKey": "42", "userHash": "0" * 64})
    assert forged.status_code == 403 and forged.json()["errorCode"] == "GENERAL"
    # Unsigned, the targeting key only names an anonymous visitor: never the targeted user.
    unsigned = post(evaluator, ONE + "vip", {"targetingKey": "42"})
    assert unsigned.status_code == 200 and unsigned.json()["value"] is False
    signed = post(evaluator, ONE + "vip", {"targetingKey": "42", "userHash": secure_hash("42")})
    assert signed.json()["value"] is True


def test_public_attributes_follow_the_allow_list(evaluator, settings):
    services.create_flag(
        "us_only",
        enabled=True,
        client_side=True,
        constraints=[{"attribute": "region", "operator": "IN", "values": ["US"]}],
        actor="test",
    )
    runtime.refresh()
    context = {"targetingKey": "1", "userHash": secure_hash("1"), "region": "US"}
    assert post(evaluator, ONE + "us_only", context).json()["value"] is False  # not allowed: dropped
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "CLIENT_ATTRIBUTES": ["region"]}
    assert post(evaluator, ONE + "us_only", context).json()["value"] is True


def test_keys_are_required_and_checked(flags):
    anonymous = post(APIClient(), BULK, {"targetingKey": "1"})
    assert anonymous.status_code == 401 and anonymous.json()["errorCode"] == "GENERAL"
    garbage = APIClient()
    garbage.credentials(HTTP_AUTHORIZATION="Bearer ff_" + "x" * 43)
    assert post(garbage, ONE + "new_ui", {"targetingKey": "1"}).status_code == 401


def test_rate_limit_answers_429_with_retry_after(evaluator, flags, settings):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "RATE_LIMIT_PER_KEY": "2/min"}
    statuses = [post(evaluator, BULK, {"targetingKey": "1"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = post(evaluator, BULK, {"targetingKey": "1"})
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert limited.json()["errorCode"] == "GENERAL"


def test_environment_and_anonymous_id_are_fields_not_attributes(reader):
    services.create_flag("anon", enabled=True, percentage=50, stickiness="anonymous_id", actor="test")
    runtime.refresh()
    for anonymous in map(str, range(30)):
        body = post(reader, ONE + "anon", {"targetingKey": "1", "anonymous_id": anonymous}).json()
        assert body["value"] is featureflags.is_enabled("anon", {"user_id": "1", "anonymous_id": anonymous})
    bad = post(reader, ONE + "anon", {"targetingKey": "1", "environment": 5})
    assert bad.status_code == 400 and bad.json()["errorCode"] == "INVALID_CONTEXT" and bad.json()["key"] == "anon"


def test_a_rollout_is_a_split(reader):
    services.create_flag("half", enabled=True, percentage=50, actor="test")
    runtime.refresh()
    reasons = {}
    for user in map(str, range(60)):
        body = post(reader, ONE + "half", {"targetingKey": user}).json()
        assert body["value"] is featureflags.is_enabled("half", user)
        reasons[body["value"]] = body["reason"]
    assert reasons == {True: "SPLIT", False: "DEFAULT"}  # inside the rollout, and left to the fallback


def test_the_key_may_come_in_x_api_key(flags):
    from featureflags.api.models import ApiToken

    _token, secret = ApiToken.objects.issue("header-key", "read")
    client = APIClient()
    answer = post(client, ONE + "secret_beta", {"targetingKey": "1"}, HTTP_X_API_KEY=secret)
    assert answer.status_code == 200 and answer.json()["value"] is True
    assert post(client, ONE + "secret_beta", {"targetingKey": "1"}, HTTP_X_API_KEY="ff_wrong").status_code == 401
    ApiToken.objects.revoke("header-key")
    assert post(client, ONE + "secret_beta", {"targetingKey": "1"}, HTTP_X_API_KEY=secret).status_code == 401
