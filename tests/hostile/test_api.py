"""Random and malicious payloads against the REST API: never a 5xx, a 4xx names
what was wrong, and a refused write leaves the database as it was."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from featureflags import services

from .strategies import NASTY_STRINGS, database_state, flag_fields, json_values, text

pytestmark = pytest.mark.django_db

HYPOTHESIS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.fixture
def api(db):
    from featureflags.api.models import ApiToken

    _token, secret = ApiToken.objects.issue("hostile-writer", "write")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    services.create_flag("target", enabled=True, percentage=30, actor="fuzz")
    return client


def send(client: APIClient, method: str, url: str, body, content_type: str = "application/json"):
    """Send ``body`` (JSON-encoded when it is not bytes); check the answer is no 5xx and nothing half-written."""
    before = database_state()
    if isinstance(body, (bytes, str)):
        payload = body
    else:
        try:
            payload = json.dumps(body)
        except (ValueError, RecursionError):
            return None  # not sendable as JSON at all
    response = getattr(client, method)(url, payload, content_type=content_type)
    assert response.status_code < 500, (method, url, str(body)[:200], response.status_code)
    if response.status_code >= 400:
        assert database_state() == before, f"a refused {method} {url} changed the database"
        if response.status_code == 400:
            assert response.json(), "a 400 must say what was wrong"
    return response


@HYPOTHESIS
@given(fields=flag_fields, key=st.one_of(st.just("made_by_fuzz"), text))
def test_create_with_random_fields(api, fields, key):
    response = send(api, "post", "/api/flags/", {"key": key, **fields})
    if response is not None and response.status_code == 201:
        services.delete_flag(response.json()["key"], actor="fuzz")


@HYPOTHESIS
@given(
    changes=st.dictionaries(
        st.one_of(st.sampled_from(["enabled", "percentage", "rules", "version"]), text), json_values
    )
)
def test_patch_with_random_changes(api, changes):
    send(api, "patch", "/api/flags/target/", changes)


@HYPOTHESIS
@given(body=json_values)
def test_any_json_anywhere(api, body):
    for method, url in (
        ("post", "/api/flags/"),
        ("patch", "/api/flags/target/"),
        ("post", "/api/flags/target/users/"),
        ("put", "/api/flags/target/users/"),
        ("put", "/api/flags/target/rules/"),
        ("put", "/api/flags/target/variants/"),
        ("put", "/api/flags/target/constraints/"),
        ("post", "/api/flags/evaluate"),
    ):
        send(api, method, url, body)


@pytest.mark.parametrize("value", NASTY_STRINGS)
def test_nasty_strings_in_urls_and_bodies(api, value):
    from urllib.parse import quote

    response = api.get(f"/api/flags/{quote(value, safe='')}/")
    assert response.status_code < 500
    send(api, "post", "/api/flags/", {"key": value, "description": value})
    send(api, "post", "/api/flags/target/users/", {"users": [value]})
    send(api, "put", "/api/flags/target/rules/", [value])
    send(api, "post", "/api/flags/evaluate", {"keys": [value], "context": {"user_id": value, value: value}})


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"\xff\xfe", b"null", b"[]" * 1000, b'{"a":' * 5000, b"1e99999", json.dumps("\x00").encode()],
)
def test_malformed_bodies(api, raw):
    for method, url in (("post", "/api/flags/"), ("patch", "/api/flags/target/"), ("post", "/api/flags/evaluate")):
        send(api, method, url, raw)


def test_huge_user_list_with_one_bad_id_changes_nothing(api):
    ids = [str(i) for i in range(50_000)] + ["bad\x00id"]
    response = send(api, "post", "/api/flags/target/users/", {"users": ids})
    assert response.status_code == 400
    plain = "\n".join([*map(str, range(50_000)), "x" * 300]).encode()
    response = send(api, "post", "/api/flags/target/users/", plain, content_type="text/plain")
    assert response.status_code == 400


def test_catastrophic_regex_through_the_api(api):
    version = api.get("/api/flags/target/rules/").json()["version"]
    response = send(api, "put", "/api/flags/target/rules/", {"version": version, "rules": ["(a+)+$"]})
    assert response.status_code == 200, response.json()
    answer = send(api, "post", "/api/flags/evaluate", {"keys": ["target"], "context": {"user_id": "a" * 200 + "b"}})
    assert answer.status_code in (200, 403)  # the write token may not have the evaluate scope
