"""Context, Decision and Reason: the input and output of every evaluation."""

from featureflags.engine import Context, Decision, Explanation, Reason, Step


def test_ids_are_normalised_to_text():
    context = Context(user_id=42, anonymous_id=7)
    assert context.user_id == "42" and context.anonymous_id == "7"
    assert Context(user_id="42").user_id == "42"
    assert Context().user_id is None and Context().anonymous_id is None


def test_ids_with_lone_surrogates_are_escaped_before_any_hashing():
    context = Context(user_id="ab\ud800", anonymous_id="\udc80")
    assert context.user_id == "ab\\ud800"
    assert context.anonymous_id == "\\udc80"
    assert Context(user_id="émile").user_id == "émile"


def test_attributes_default_to_an_empty_read_only_mapping():
    context = Context()
    assert dict(context.attributes) == {}
    assert context.get("region") is None


def test_get_reads_context_fields_then_attributes():
    context = Context(user_id="1", anonymous_id="a", environment="prod", attributes={"region": "US", "user_id": "x"})
    assert context.get("user_id") == "1"
    assert context.get("anonymous_id") == "a"
    assert context.get("environment") == "prod"
    assert context.get("region") == "US"


def test_replace_equality_and_dict():
    context = Context(user_id="1", attributes={"a": 1}, environment="qa")
    other = context.replace(environment="prod")
    assert other.environment == "prod" and other.user_id == "1" and context.environment == "qa"
    assert context == Context(user_id=1, attributes={"a": 1}, environment="qa")
    assert context != other
    assert hash(context) == hash(Context(user_id="1", environment="qa"))
    assert context.as_dict() == {"user_id": "1", "anonymous_id": None, "attributes": {"a": 1}, "environment": "qa"}
    assert "user_id='1'" in repr(context)


def test_decision():
    on = Decision(True, "blue", Reason.RULE, "#00f", "beta")
    assert bool(on) and not Decision(False, None, Reason.OFF)
    assert on.as_dict() == {"enabled": True, "variant": "blue", "reason": "RULE"}
    assert on.as_dict(with_value=True) == {
        "enabled": True,
        "variant": "blue",
        "reason": "RULE",
        "value": "#00f",
        "rule": "beta",
    }


def test_reason_values_are_their_names():
    assert all(reason.value == reason.name for reason in Reason)
    assert str(Reason.GLOBAL) == "GLOBAL"


def test_explanation_as_dict():
    explanation = Explanation("f", Decision(False, None, Reason.OFF), (Step("switch", "decided", "off"),))
    assert explanation.as_dict() == {
        "key": "f",
        "enabled": False,
        "variant": None,
        "reason": "OFF",
        "steps": [{"name": "switch", "outcome": "decided", "detail": "off"}],
    }
