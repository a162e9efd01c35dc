"""The request context reads the attributes that rules and segments use (version 2), not
only a version-1 flag's own constraints: ``featureflags.context.constrained_attributes``."""

from __future__ import annotations

import pytest

from featureflags import context
from featureflags.engine import Snapshot
from featureflags.store import runtime


@pytest.fixture
def installed():
    def install(snapshot: Snapshot) -> None:
        runtime.install(snapshot)

    yield install
    runtime.reset()


def segment_rule_flag() -> dict:
    rule = {
        "id": "beta",
        "segments": ["staff"],
        "constraints": [{"attribute": "plan", "operator": "IN", "values": ["pro"]}],
    }
    return {"schema": 2, "key": "beta_ui", "environments": {"default": {"enabled": True, "rules": [rule]}}}


def test_rules_and_segments_attributes_are_read(installed):
    segment = {"key": "staff", "constraints": [{"attribute": "groups", "operator": "IN", "values": ["staff"]}]}
    installed(Snapshot.from_definitions([segment_rule_flag()], segments=[segment]))
    names = context.constrained_attributes()
    assert {"groups", "plan"} <= names
    assert context.constrained_attributes() is names  # once per snapshot


def test_a_snapshot_without_them_reads_none(installed):
    installed(Snapshot.from_definitions([{"key": "plain", "enabled": True}]))
    assert "groups" not in context.constrained_attributes()
