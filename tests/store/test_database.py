"""Definitions read from plain rows are exactly the engine fields the models hold."""

from __future__ import annotations

import pytest

from featureflags import services
from featureflags.models import Flag
from featureflags.serialization import RULE_FIELDS, flag_state, with_relations
from featureflags.store import database


@pytest.mark.django_db
def test_definitions_match_the_models_field_by_field():
    services.create_flag("parent", enabled=True, variants=[{"name": "a", "weight": 1}, {"name": "b", "weight": 3}])
    services.create_flag(
        "child",
        enabled=True,
        percentage=42,
        salt="pepper",
        environments=["production"],
        start_at="2026-01-01T00:00:00+00:00",
        rules=["^qa-", "@example\\.com$"],
        constraints=[{"attribute": "region", "operator": "IN", "values": ["US", "CA"], "case_insensitive": True}],
        variants=[{"name": "x", "weight": 2}, {"name": "y", "weight": 5}],
        pinned_variants={"7": "y"},
        prerequisites=[{"key": "parent", "variant": "b"}],
    )
    services.add_users("child", ["1", "2"])
    services.add_users("child", ["3"], excluded=True)
    read = database.definitions()
    for flag in with_relations(Flag.objects.all()):
        expected = {name: value for name, value in flag_state(flag).items() if name in RULE_FIELDS}
        got = {name: read[flag.key][name] for name in RULE_FIELDS}
        assert got == expected, flag.key
        assert read[flag.key]["rev"] == flag.mirror_version
    assert sorted(read["child"]["users"]) == ["1", "2"]
    assert sorted(read["child"]["excluded_users"]) == ["3"]
    assert set(database.definitions(["child"])) == {"child"}
