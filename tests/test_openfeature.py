"""An OpenFeature client resolving flags and variants through the provider."""

from __future__ import annotations

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason as OFReason

from featureflags import services
from featureflags.engine import Context
from featureflags.openfeature import FeatureFlagsProvider, to_context
from featureflags.store import runtime

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    services.create_flag("new_ui", enabled=True, percentage=0, environments=["production"])
    services.add_users("new_ui", ["42"])
    services.create_flag("checkout", enabled=True, variants=["blue", "green"], pinned_variants={"7": "green"})
    services.create_flag("half", enabled=True, percentage=50)
    services.create_flag("off", enabled=False, variants=["a"])
    runtime.refresh()
    api.set_provider(FeatureFlagsProvider())
    yield api.get_client()
    api.clear_providers()


def test_boolean_resolution_with_reason(client):
    ctx = EvaluationContext("42", {"environment": "production"})
    details = client.get_boolean_details("new_ui", False, ctx)
    assert (details.value, details.reason, details.variant) == (True, OFReason.TARGETING_MATCH, "on")
    assert details.flag_metadata["featureflags_reason"] == "TARGETED"
    other = client.get_boolean_details("new_ui", True, EvaluationContext("43", {"environment": "production"}))
    assert other.value is False and other.reason == OFReason.DEFAULT  # NO_MATCH
    assert client.get_boolean_details("new_ui", True, EvaluationContext("42", {"environment": "qa"})).value is False
    assert client.get_boolean_details("off", True, ctx).reason == OFReason.DISABLED
    assert client.get_boolean_details("half", False).reason == OFReason.STATIC  # no context: the global switch


def test_string_resolution_is_the_variant(client):
    details = client.get_string_details("checkout", "control", EvaluationContext("7"))
    assert (details.value, details.variant, details.reason) == ("green", "green", OFReason.STATIC)  # DEFAULT
    assert client.get_string_value("checkout", "control", EvaluationContext("8")) in ("blue", "green")
    off = client.get_string_details("off", "control", EvaluationContext("8"))
    assert (off.value, off.reason) == ("control", OFReason.DISABLED)
    plain = client.get_string_details("half", "control", EvaluationContext("1"))
    assert plain.value == "control"


def test_unknown_flag_and_wrong_types_give_the_default(client):
    missing = client.get_boolean_details("nope", True)
    assert missing.value is True and missing.error_code == ErrorCode.FLAG_NOT_FOUND
    number = client.get_integer_details("half", 5)
    assert number.value == 5 and number.error_code == ErrorCode.TYPE_MISMATCH


def test_context_mapping():
    ctx = to_context(EvaluationContext("42", {"region": "US", "anonymous_id": "a1", "environment": "qa"}))
    assert ctx == Context("42", {"region": "US"}, anonymous_id="a1", environment="qa")
    assert to_context(EvaluationContext()) is None
    assert to_context(None) is None
