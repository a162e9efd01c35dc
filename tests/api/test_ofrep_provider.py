"""The official Python OFREP provider (``openfeature-provider-ofrep``, through ``openfeature-sdk``)
against a live server: the same decisions as ``featureflags.is_enabled`` and ``variant`` for every
flag of the demo and 1,000 random contexts; the error codes a provider reports."""

from __future__ import annotations

import io
import random
import socket

import pytest
import requests
from django.core.management import call_command
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread
from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

import featureflags
from featureflags import secure_hash, services
from featureflags.api.models import ApiToken
from featureflags.store import runtime

pytestmark = pytest.mark.django_db(transaction=True)  # the live server's threads read what the test committed

REGIONS = ["US", "RO", "DE", "FR"]
ACCOUNT_TYPES = ["premium", "enterprise", "free"]
ENVIRONMENTS = ["dev", "staging", "production", "qa"]


class _NoDelayServer(ThreadedWSGIServer):
    """Django's live server, answering without Nagle's wait: its small writes (status, each header)
    would otherwise wait for the client's delayed ACK, 40 ms a request on a kept-alive connection."""

    def get_request(self):
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


class _NoDelayThread(LiveServerThread):
    server_class = _NoDelayServer


class _Server:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sessions: list[requests.Session] = []  # closed first: a kept-alive connection holds a database session


@pytest.fixture
def ofrep_server(transactional_db):
    """A WSGI server in a thread of this process (its snapshot is the test's) on 127.0.0.1."""
    thread = _NoDelayThread("127.0.0.1", lambda app: app)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    server = _Server(f"http://127.0.0.1:{thread.port}")
    yield server
    for session in server.sessions:
        session.close()
    thread.terminate()


@pytest.fixture
def demo(ofrep_server):
    call_command("demo_setup", stdout=io.StringIO())
    runtime.refresh()
    keys = sorted(runtime.current().flags)
    assert keys == ["advanced_search", "cdc_on", "new_ui"]
    return keys


def client_for(ofrep_server, scope: str, name: str):
    _token, secret = ApiToken.objects.issue(name, scope)
    headers = {"Authorization": f"Bearer {secret}"}
    provider = OFREPProvider(f"{ofrep_server.url}/api/", headers_factory=lambda: headers)
    ofrep_server.sessions.append(provider.session)
    api.set_provider(provider, domain=name)
    return api.get_client(domain=name), secret


def random_context(rng: random.Random) -> tuple[str, dict]:
    user = rng.choice(["123", "456", "789", "447568110000", f"4475681{rng.randrange(10**5):05d}01"])
    if rng.random() < 0.7:
        user = str(rng.randrange(1, 10**9))
    attributes: dict = {}
    if rng.random() < 0.8:
        attributes["region"] = rng.choice(REGIONS)
    if rng.random() < 0.6:
        attributes["account_type"] = rng.choice(ACCOUNT_TYPES)
    if rng.random() < 0.5:
        attributes["beta_program"] = rng.random() < 0.5
    if rng.random() < 0.3:
        attributes["environment"] = rng.choice(ENVIRONMENTS)
    return user, attributes


def test_provider_decides_as_the_python_api_for_every_demo_flag(ofrep_server, demo):
    client, secret = client_for(ofrep_server, "read", "ofrep-server")
    rng = random.Random(17)
    contexts = [random_context(rng) for _ in range(1000)]
    seen = {key: set() for key in demo}
    session = requests.Session()
    ofrep_server.sessions.append(session)
    for user, attributes in contexts:
        who = {"user_id": user, **attributes}
        bulk = session.post(
            f"{ofrep_server.url}/api/ofrep/v1/evaluate/flags",
            json={"context": {"targetingKey": user, **attributes}},
            headers={"Authorization": f"Bearer {secret}"},
            timeout=10,
        ).json()
        by_key = {flag["key"]: flag for flag in bulk["flags"]}
        assert sorted(by_key) == demo
        for key in demo:
            enabled = featureflags.is_enabled(key, who)
            variant = featureflags.variant(key, who)
            assert by_key[key]["value"] is enabled, (key, who)
            assert by_key[key]["variant"] == (variant or ("on" if enabled else "off")), (key, who)
            seen[key].add((enabled, variant))
        # One flag a context through the provider itself (every flag over the run).
        key = rng.choice(demo)
        details = client.get_boolean_details(
            key, not featureflags.is_enabled(key, who), EvaluationContext(user, attributes)
        )
        assert details.error_code is None, details.error_message
        assert details.value is featureflags.is_enabled(key, who), (key, who)
        assert details.variant == by_key[key]["variant"]
        assert details.flag_metadata["featureflagsReason"] == featureflags.evaluate(key, who).reason.value
    # The contexts reach both answers of every flag, and cdc_on's two variants.
    for key in demo:
        assert {enabled for enabled, _ in seen[key]} == {True, False}, key
    assert {variant for enabled, variant in seen["cdc_on"] if enabled} == {"foo", "bar"}


def test_provider_every_demo_flag_one_by_one(ofrep_server, demo):
    client, _secret = client_for(ofrep_server, "read", "ofrep-each")
    rng = random.Random(3)
    for _ in range(100):
        user, attributes = random_context(rng)
        who = {"user_id": user, **attributes}
        for key in demo:
            details = client.get_boolean_details(key, False, EvaluationContext(user, attributes))
            decision = featureflags.evaluate(key, who)
            assert details.value is decision.enabled, (key, who)
            assert details.reason != Reason.ERROR


def test_provider_error_codes(ofrep_server, demo):
    client, _secret = client_for(ofrep_server, "read", "ofrep-errors")
    missing = client.get_boolean_details("no_such_flag", True, EvaluationContext("1"))
    assert (missing.value, missing.error_code, missing.reason) == (True, ErrorCode.FLAG_NOT_FOUND, Reason.ERROR)
    wrong_type = client.get_string_details("new_ui", "fallback", EvaluationContext("1", {"region": "US"}))
    assert (wrong_type.value, wrong_type.error_code) == ("fallback", ErrorCode.TYPE_MISMATCH)
    no_key = client.get_boolean_details("new_ui", True, EvaluationContext(None, {"region": "US"}))
    assert (no_key.value, no_key.error_code) == (True, ErrorCode.TARGETING_KEY_MISSING)
    nested = client.get_boolean_details("new_ui", True, EvaluationContext("1", {"plan": {"tier": 1}}))
    assert (nested.value, nested.error_code) == (True, ErrorCode.INVALID_CONTEXT)


def test_provider_with_a_public_key(ofrep_server, demo):
    services.create_flag("banner", enabled=True, percentage=0, client_side=True, actor="test")
    services.add_users("banner", ["42"])
    runtime.refresh()
    client, _secret = client_for(ofrep_server, "evaluate", "ofrep-public")
    signed = client.get_boolean_details("banner", False, EvaluationContext("42", {"userHash": secure_hash("42")}))
    assert signed.value is True and signed.error_code is None and signed.flag_metadata == {}
    unsigned = client.get_boolean_details("banner", False, EvaluationContext("42"))
    assert unsigned.value is False and unsigned.error_code is None  # an anonymous visitor called 42
    forged = client.get_boolean_details("banner", False, EvaluationContext("42", {"userHash": "ab" * 32}))
    assert (forged.value, forged.error_code) == (False, ErrorCode.GENERAL)  # 403
    server_side = client.get_boolean_details("new_ui", True, EvaluationContext("42", {"userHash": secure_hash("42")}))
    assert server_side.error_code == ErrorCode.FLAG_NOT_FOUND


def test_provider_respects_retry_after(ofrep_server, demo, settings):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "RATE_LIMIT_PER_KEY": "3/hour"}
    services.update_flag("new_ui", {"client_side": True}, actor="test")
    runtime.refresh()
    client, _secret = client_for(ofrep_server, "evaluate", "ofrep-limited")
    context = EvaluationContext("1", {"region": "US"})
    answers = [client.get_boolean_details("new_ui", False, context) for _ in range(3)]
    assert all(a.error_code is None for a in answers)
    limited = client.get_boolean_details("new_ui", False, context)
    assert limited.error_code == ErrorCode.GENERAL and "retry after" in limited.error_message.lower()
    # The provider now pauses itself without asking the server (it read Retry-After).
    paused = client.get_boolean_details("new_ui", False, context)
    assert "paused" in paused.error_message
