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


@pytest.fixture
def typed(client):
    layouts = [{"name": "single", "weight": 1, "value": "single_page"}, {"name": "two", "weight": 1, "value": "two"}]
    services.create_flag("layout", enabled=True, value_type="string", variants=layouts, pinned_variants={"7": "two"})
    sizes = [{"name": "small", "weight": 1, "value": 10}, {"name": "ratio", "weight": 1, "value": 0.25}]
    services.create_flag("size", enabled=True, value_type="number", variants=sizes, pinned_variants={"7": "small"})
    services.update_flag("size", {"pinned_variants": {"7": "small", "8": "ratio"}})
    theme = [{"name": "dark", "weight": 1, "value": {"bg": "#000"}}, {"name": "word", "weight": 1, "value": "x"}]
    services.create_flag(
        "theme", enabled=True, value_type="json", variants=theme, pinned_variants={"7": "dark", "8": "word"}
    )
    services.create_flag(
        "by_rule",
        enabled=True,
        value_type="string",
        variants=[{"name": "us", "weight": 1, "value": "dollars"}],
        constraints=[{"attribute": "region", "operator": "IN", "values": ["US"]}],
    )
    runtime.refresh()
    return client


def test_strings_resolve_from_values(typed):
    details = typed.get_string_details("layout", "default", EvaluationContext("7"))
    assert (details.value, details.variant, details.error_code) == ("two", "two", None)
    assert details.flag_metadata["featureflags_reason"] == "DEFAULT"
    services.set_enabled("layout", False)
    runtime.refresh()
    off = typed.get_string_details("layout", "default", EvaluationContext("7"))
    assert (off.value, off.reason, off.variant) == ("default", OFReason.DISABLED, None)


def test_numbers_resolve_as_integers_and_floats(typed):
    assert typed.get_integer_details("size", 1, EvaluationContext("7")).value == 10
    assert typed.get_float_details("size", 1.0, EvaluationContext("7")).value == 10.0
    assert typed.get_float_details("size", 1.0, EvaluationContext("8")).value == 0.25
    fraction = typed.get_integer_details("size", 1, EvaluationContext("8"))
    assert (fraction.value, fraction.error_code) == (1, ErrorCode.TYPE_MISMATCH)  # 0.25 is no integer


def test_objects_resolve_from_json_values(typed):
    details = typed.get_object_details("theme", {}, EvaluationContext("7"))
    assert details.value == {"bg": "#000"} and details.variant == "dark"
    scalar = typed.get_object_details("theme", {"a": 1}, EvaluationContext("8"))
    assert (scalar.value, scalar.error_code) == ({"a": 1}, ErrorCode.TYPE_MISMATCH)


def test_the_rule_id_is_in_the_metadata(typed):
    details = typed.get_string_details("by_rule", "none", EvaluationContext("1", {"region": "US"}))
    assert details.value == "dollars"
    assert details.flag_metadata == {"featureflags_reason": "RULE", "enabled": True, "rule": "rollout"}
    miss = typed.get_string_details("by_rule", "none", EvaluationContext("1", {"region": "FR"}))
    assert (miss.value, miss.reason, miss.error_code) == ("none", OFReason.DEFAULT, None)


@pytest.mark.parametrize(
    ("method", "key", "default"),
    [
        ("get_boolean_details", "layout", False),
        ("get_integer_details", "layout", 3),
        ("get_float_details", "theme", 0.5),
        ("get_object_details", "size", {}),
        ("get_string_details", "size", "s"),
        ("get_string_details", "half", "control"),  # a boolean flag without variants has no string
        ("get_integer_details", "new_ui", 5),
    ],
)
def test_a_type_other_than_the_flags_is_a_type_mismatch(typed, method, key, default):
    details = getattr(typed, method)(key, default, EvaluationContext("7"))
    assert details.value == default
    assert details.error_code == ErrorCode.TYPE_MISMATCH
    assert details.reason == OFReason.ERROR
