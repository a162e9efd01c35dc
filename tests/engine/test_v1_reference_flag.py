"""The version-1 reference evaluator (tests/engine/v1_reference), as it was tested before version 2.

CompiledFlag: what the evaluator precomputes, and unvalidated (stored) definitions."""

import pytest

from featureflags.engine import Context, InvalidDefinition, Reason
from featureflags.engine.hashing import crc32_bucket, murmur_bucket, signed_crc32
from featureflags.engine.idset import build_id_set, id_set_from_bytes, id_set_to_bytes
from tests.engine.v1_reference import CompiledFlag, Snapshot


def compiled(**fields):
    return CompiledFlag({"key": "f", "enabled": True, **fields})


def test_defaults():
    flag = CompiledFlag({"key": "f"})
    assert (flag.enabled, flag.percentage, flag.stickiness, flag.bucketing) == (False, 100, "default", "murmur3")
    assert flag.salt_prefix == "f:"
    assert flag.environments is None and not flag.has_schedule
    assert flag.excluded is None and flag.targeted is None and flag.rules is None
    assert flag.constraints == () and flag.variant_names == () and flag.pinned == {}


def test_none_means_the_default():
    flag = CompiledFlag(
        {"key": "f", "enabled": None, "percentage": None, "salt": None, "stickiness": None, "users": None},
        validate=False,
    )
    assert (flag.enabled, flag.percentage, flag.salt_prefix, flag.stickiness) == (False, 100, "f:", "default")


def test_sticky_value():
    assert compiled().sticky_value(Context(user_id="u", anonymous_id="a")) == "u"
    assert compiled().sticky_value(Context(anonymous_id="a")) == "a"
    assert compiled().sticky_value(Context(user_id="", anonymous_id="a")) == "a"
    assert compiled(stickiness="user_id").sticky_value(Context(anonymous_id="a")) is None
    assert compiled(stickiness="anonymous_id").sticky_value(Context(user_id="u")) is None
    assert compiled(stickiness="plan").sticky_value(Context(attributes={"plan": 3})) == "3"
    assert compiled(stickiness="plan").sticky_value(Context(attributes={"plan": ""})) is None
    assert compiled(stickiness="plan").sticky_value(Context(attributes={"plan": "\ud800"})) == "\\ud800"


def test_bucket_scales():
    assert compiled().bucket("123") == murmur_bucket("f:", "123")
    assert compiled(salt="s").bucket("123") == murmur_bucket("s:", "123")
    assert compiled(bucketing="crc32").bucket("444401") == crc32_bucket("444401") == 89
    assert compiled(bucketing="crc32", percentage=90).in_rollout("444401")
    assert not compiled(bucketing="crc32", percentage=89).in_rollout("444401")


def test_crc32_variants_are_hanoi_index_modulo():
    names = ["a", "b", "c"]
    flag = compiled(bucketing="crc32", variants=[{"name": n} for n in names])
    for i in range(100):
        assert flag.variant_for(Context(user_id=str(i))) == names[signed_crc32(str(i)) % 3]


def test_invalid_definition_is_refused_when_validating():
    with pytest.raises(InvalidDefinition):
        CompiledFlag({"key": "f", "percentage": 101})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("percentage", "50"),
        ("percentage", 101),
        ("percentage", True),
        ("environments", "prod"),
        ("rules", "abc"),
        ("users", "12"),
        ("excluded_users", {"1": True}),
        ("bucketing", "md5"),
    ],
)
def test_unvalidated_definition_of_the_wrong_shape_is_refused_not_misread(field, value):
    """The store compiles without validation; a wrong type must not raise in every check,
    nor silently mean something else ("prod" would allow the environments p, r, o and d)."""
    with pytest.raises(InvalidDefinition) as error:
        CompiledFlag({"key": "f", "enabled": True, field: value}, validate=False)
    assert [e.field for e in error.value.errors] == [field]


@pytest.mark.parametrize(("field", "value"), [("variants", "a"), ("prerequisites", "p"), ("salt", 5)])
def test_other_wrong_shapes_fail_to_compile(field, value):
    with pytest.raises((TypeError, AttributeError, InvalidDefinition)):  # the store logs it and drops the flag
        CompiledFlag({"key": "f", "enabled": True, field: value}, validate=False)


@pytest.mark.parametrize(("field", "value"), [("constraints", {"attribute": "a"}), ("stickiness", 5)])
def test_other_wrong_shapes_fail_closed(field, value):
    flag = CompiledFlag({"key": "f", "enabled": True, "percentage": 50, field: value}, validate=False)
    assert not Snapshot({"f": flag}).is_enabled("f", Context(user_id="1", attributes={"a": "x"}))


def test_unvalidated_weights_adding_to_zero_are_refused():
    with pytest.raises(InvalidDefinition):
        CompiledFlag({"key": "f", "variants": [{"name": "a", "weight": 0}]}, validate=False)


def test_unvalidated_constraint_that_cannot_compile_is_false_not_fatal():
    flag = CompiledFlag(
        {"key": "f", "enabled": True, "constraints": [{"attribute": "a", "operator": "BOGUS", "values": []}, "junk"]},
        validate=False,
    )
    snapshot = Snapshot({"f": flag})
    assert snapshot.evaluate("f", Context(attributes={"a": "x"})).reason is Reason.CONSTRAINT
    assert snapshot.explain("f", Context()).steps[-1].outcome == "decided"


def test_prebuilt_id_sets_are_used_as_they_are():
    """The store hands over id sets loaded from Redis rather than lists."""
    users = id_set_from_bytes(id_set_to_bytes(build_id_set(str(i) for i in range(12_000))))
    flag = CompiledFlag(
        {"key": "f", "enabled": True, "percentage": 0, "users": users, "excluded_users": build_id_set(["7"])}
    )
    assert flag.user_count == 12_000 and flag.excluded_count == 1
    snapshot = Snapshot({"f": flag})
    assert snapshot.evaluate("f", Context(user_id="11999")).reason is Reason.TARGETED
    assert snapshot.evaluate("f", Context(user_id="7")).reason is Reason.EXCLUDED
    assert snapshot.evaluate("f", Context(user_id="12000")).reason is Reason.ROLLOUT
