"""Definitions: validation of one flag and of a whole set."""

from datetime import UTC, datetime

import pytest

from featureflags.engine.definition import (
    find_cycles,
    is_valid_key,
    keys_in_cycles,
    prerequisite_keys,
    to_timestamp,
    validate_definition,
    validate_definitions,
)


def fields(definition):
    return {e.field for e in validate_definition({"key": "f", **definition})}


def test_minimal_definition_is_valid():
    assert validate_definition({"key": "f"}) == []


@pytest.mark.parametrize("key", ["a", "new_ui", "Feature.A-1", "x" * 100])
def test_valid_keys(key):
    assert is_valid_key(key)


@pytest.mark.parametrize("key", ["", "x" * 101, "has space", "Hellø", "a/b", None, 5])
def test_invalid_keys(key):
    assert not is_valid_key(key)
    assert "key" in {e.field for e in validate_definition({"key": key})}


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        ({"enabled": "yes"}, "enabled"),
        ({"percentage": 101}, "percentage"),
        ({"percentage": -1}, "percentage"),
        ({"percentage": 50.5}, "percentage"),
        ({"percentage": True}, "percentage"),
        ({"users": "123"}, "users"),
        ({"excluded_users": {"1": 1}}, "excluded_users"),
        ({"rules": "^a"}, "rules"),
        ({"rules": ["ok", "(?=x)"]}, "rules.1"),
        ({"constraints": {}}, "constraints"),
        ({"constraints": ["x"]}, "constraints.0"),
        ({"constraints": [{"attribute": "a", "operator": "LIKE", "values": []}]}, "constraints.0.operator"),
        ({"constraints": [{"attribute": "a", "operator": "NUM_EQ", "values": ["abc"]}]}, "constraints.0.values"),
        ({"constraints": [{"operator": "IN", "values": []}]}, "constraints.0.attribute"),
        ({"stickiness": ""}, "stickiness"),
        ({"salt": 5}, "salt"),
        ({"bucketing": "md5"}, "bucketing"),
        ({"variants": {"a": 1}}, "variants"),
        ({"variants": [{"name": "a", "weight": -1}]}, "variants.0.weight"),
        ({"variants": [{"name": "a", "weight": 0}]}, "variants"),
        ({"variants": [{"name": "a", "weight": 1.5}]}, "variants.0.weight"),
        ({"variants": [{"name": "a"}, {"name": "a"}]}, "variants.1.name"),
        ({"variants": [{"weight": 1}]}, "variants.0.name"),
        ({"pinned_variants": {"1": "zz"}}, "pinned_variants"),
        ({"pinned_variants": ["1"]}, "pinned_variants"),
        ({"prerequisites": [{"key": "f"}]}, "prerequisites.0.key"),
        ({"prerequisites": [{"key": "bad key"}]}, "prerequisites.0.key"),
        ({"prerequisites": [{"key": "p", "variant": 3}]}, "prerequisites.0.variant"),
        ({"prerequisites": "p"}, "prerequisites"),
        ({"environments": "prod"}, "environments"),
        ({"environments": [""]}, "environments"),
        ({"start_at": "tomorrow"}, "start_at"),
        ({"end_at": "2020-13-01"}, "end_at"),
        ({"start_at": "2024-01-02", "end_at": "2024-01-01"}, "end_at"),
    ],
)
def test_each_problem_names_its_field(definition, field):
    assert field in fields(definition)


def test_every_problem_is_listed_at_once():
    found = fields({"percentage": 101, "bucketing": "x", "rules": ["("]})
    assert {"percentage", "bucketing", "rules.0"} <= found


def test_valid_full_definition():
    definition = {
        "key": "f",
        "enabled": True,
        "percentage": 30,
        "users": ["1", 2],
        "excluded_users": ["3"],
        "rules": ["01$"],
        "constraints": [{"attribute": "region", "operator": "IN", "values": ["US"], "inverted": False}],
        "stickiness": "company",
        "salt": "grp",
        "bucketing": "crc32",
        "variants": [{"name": "a", "weight": 1}, {"name": "b", "weight": 0}],
        "pinned_variants": {"1": "b"},
        "prerequisites": [{"key": "p", "variant": "x"}],
        "environments": ["prod"],
        "start_at": "2024-01-01T00:00:00Z",
        "end_at": datetime(2030, 1, 1, tzinfo=UTC),
    }
    assert validate_definition(definition) == []


def test_set_validation_missing_prerequisite_and_variant():
    definitions = {
        "a": {"key": "a", "prerequisites": [{"key": "gone"}]},
        "b": {"key": "b", "prerequisites": [{"key": "c", "variant": "blue"}]},
        "c": {"key": "c", "variants": [{"name": "red", "weight": 1}]},
    }
    errors = {(e.key, e.field) for e in validate_definitions(definitions)}
    assert ("a", "prerequisites.0") in errors
    assert ("b", "prerequisites.0.variant") in errors


def test_set_validation_reports_a_cycle_on_every_flag_along_it():
    definitions = {
        "a": {"key": "a", "prerequisites": [{"key": "b"}]},
        "b": {"key": "b", "prerequisites": [{"key": "c"}]},
        "c": {"key": "c", "prerequisites": [{"key": "a"}]},
        "d": {"key": "d", "prerequisites": [{"key": "a"}]},
    }
    errors = [e for e in validate_definitions(definitions) if e.field == "prerequisites"]
    assert {e.key for e in errors} == {"a", "b", "c"}
    assert "cycle" in errors[0].message


def test_find_cycles():
    graph = {
        "a": {"prerequisites": [{"key": "b"}]},
        "b": {"prerequisites": [{"key": "a"}]},
        "c": {"prerequisites": [{"key": "c2"}]},
        "c2": {"prerequisites": []},
        "self": {"prerequisites": [{"key": "self"}]},
    }
    cycles = find_cycles(graph)
    assert sorted(sorted(set(c)) for c in cycles) == [["a", "b"], ["self"]]
    assert keys_in_cycles(graph) == {"a", "b", "self"}
    assert find_cycles({"x": {}, "y": {"prerequisites": [{"key": "x"}]}}) == []


def test_prerequisite_keys_skips_malformed_entries():
    assert prerequisite_keys({"prerequisites": [{"key": "a"}, "b", {"key": 3}, {"key": "c"}]}) == ["a", "c"]
    assert prerequisite_keys({"prerequisites": None}) == []


def test_to_timestamp():
    assert to_timestamp("1970-01-01T00:01:00Z") == 60.0
    assert to_timestamp("1970-01-01T01:00:00+01:00") == 0.0
    assert to_timestamp("1970-01-01T00:00:10") == 10.0  # naive: UTC
    assert to_timestamp(datetime(1970, 1, 1, 0, 0, 5, tzinfo=UTC)) == 5.0
    assert to_timestamp(12) == 12.0
    for value in (None, True, "soon", [1]):
        assert to_timestamp(value) is None
