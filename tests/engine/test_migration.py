"""Migration equivalence: a version-1 flag and its version-2 form decide alike (spec/evaluation.md).

The reference is the version-1 evaluator as it was (tests/engine/v1_reference). Each random
version-1 flag set is evaluated three ways: by the reference, by the engine compiling the
version-1 definitions (converted at compile time), and by the engine compiling the explicit
version-2 definitions that ``engine.v1.to_v2`` writes over the migration's environments. The
enabled state and the variant must be identical, the reason the reference's mapped by
``engine.v1.v2_reason``; except that a name that is no environment at all (neither in a
version-1 list, nor the deployment's, nor ``default``) has no targeting in version 2:
``ENVIRONMENT`` and off, where version 1 decided by its list.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from featureflags.engine import Context, Reason, Snapshot
from featureflags.engine.v1 import migration_environments, to_v2, v2_reason
from tests.engine import v1_reference

DEPLOYMENT = "production"
IDS = [str(i) for i in range(1, 40)] + ["443301", "444401", "admin-7", "qa12", ""]
NOW = datetime.now(UTC)

constraints = st.sampled_from(
    [
        {"attribute": "region", "operator": "IN", "values": ["US", "DE"]},
        {"attribute": "region", "operator": "NOT_IN", "values": ["FR"]},
        {"attribute": "plan", "operator": "STR_STARTS_WITH", "values": ["pro"], "case_insensitive": True},
        {"attribute": "age", "operator": "NUM_GT", "values": ["17"], "inverted": True},
        {"attribute": "user_id", "operator": "IN", "values": ["3", "5", "admin-7"]},
        {"attribute": "app", "operator": "SEMVER_GTE", "values": ["2.0.0"]},
    ]
)
windows = st.sampled_from(
    [
        (None, None),
        ((NOW - timedelta(days=1)).isoformat(), None),
        ((NOW + timedelta(days=1)).isoformat(), None),
        (None, (NOW - timedelta(days=1)).isoformat()),
    ]
)


@st.composite
def v1_flag(draw, key: str, parent: str | None):
    bucketing = draw(st.sampled_from(["murmur3", "murmur3", "crc32", "crc32_inv"]))
    variant_count = draw(st.integers(0, 3))
    weight = draw(st.integers(1, 5))
    variants = [
        {"name": f"v{i}", "weight": weight if bucketing != "murmur3" else draw(st.integers(0, 5)) + (i == 0)}
        for i in range(variant_count)
    ]
    start_at, end_at = draw(windows)
    definition = {
        "key": key,
        "enabled": draw(st.booleans()),
        "percentage": draw(st.sampled_from([0, 1, 30, 50, 99, 100, 100])),
        "stickiness": draw(st.sampled_from(["default", "default", "user_id", "anonymous_id", "plan"])),
        "salt": draw(st.sampled_from(["", "", "group"])),
        "bucketing": bucketing,
        "users": draw(st.lists(st.sampled_from(IDS), max_size=4)),
        "excluded_users": draw(st.lists(st.sampled_from(IDS), max_size=2)),
        "rules": draw(st.lists(st.sampled_from(["01$", "^admin-", "^qa[0-9]+$", "^$"]), max_size=2, unique=True)),
        "constraints": draw(st.lists(constraints, max_size=3)),
        "variants": variants,
        "environments": draw(st.lists(st.sampled_from(["production", "staging"]), max_size=2, unique=True)),
        "start_at": start_at,
        "end_at": end_at,
    }
    if variants and draw(st.booleans()):
        definition["pinned_variants"] = {draw(st.sampled_from(IDS)): variants[-1]["name"]}
    if parent is not None and draw(st.booleans()):
        wanted = draw(st.sampled_from([None, "v0"]))
        definition["prerequisites"] = [{"key": parent, "variant": wanted}]
    return definition


@st.composite
def flag_sets(draw):
    parent = draw(v1_flag("parent", None))
    if not parent["variants"]:  # the child may require one of the parent's variants
        parent["variants"] = [{"name": "v0", "weight": 1}, {"name": "v1", "weight": 1}]
        parent["pinned_variants"] = {}
    child = draw(v1_flag("child", "parent"))
    return [parent, child]


@st.composite
def contexts(draw):
    if draw(st.integers(0, 9)) == 0:
        return None
    attributes = draw(
        st.dictionaries(
            st.sampled_from(["region", "plan", "age", "app"]),
            st.sampled_from(["US", "DE", "FR", "Pro-1", "pro", "16", "30", "2.0.0", "1.9.9", "x"]),
            max_size=4,
        )
    )
    return Context(
        user_id=draw(st.one_of(st.none(), st.sampled_from(IDS))),
        attributes=attributes,
        anonymous_id=draw(st.one_of(st.none(), st.sampled_from(["anon-1", "anon-2", ""]))),
        environment=draw(st.sampled_from([None, "production", "staging", "default", "qa"])),
    )


@settings(max_examples=300, deadline=None)
@given(flag_sets(), st.lists(contexts(), min_size=1, max_size=5))
def test_random_v1_flags_decide_alike_through_the_migration(definitions, sample):
    reference = v1_reference.Snapshot.from_definitions(definitions, environment=DEPLOYMENT)
    compiled_v1 = Snapshot.from_definitions(definitions, environment=DEPLOYMENT)
    environments = migration_environments(definitions, DEPLOYMENT)
    migrated = Snapshot.from_definitions([to_v2(d, environments) for d in definitions], environment=DEPLOYMENT)
    by_key = {d["key"]: d for d in definitions}
    for context in sample:
        for key in by_key:
            old = reference.evaluate(key, context)
            expected = (old.enabled, old.variant, v2_reason(old.reason, old.enabled, by_key[key]))
            if context is not None and context.environment not in (None, *environments):
                expected = (False, None, Reason.ENVIRONMENT)
            for snapshot in (compiled_v1, migrated):
                new = snapshot.evaluate(key, context)
                assert (new.enabled, new.variant, new.reason) == expected, (by_key[key], context)
                assert snapshot.is_enabled(key, context) is expected[0]
                assert snapshot.variant(key, context) == expected[1]
            if context is not None and context == Context(context.user_id) and context.user_id:
                bare = compiled_v1.id_decider(key)  # the bare-id fast path agrees too
                assert bare(context.user_id) is old.enabled
                assert compiled_v1.id_variant(key, bare)(context.user_id) == old.variant


def test_the_mapping_of_the_spec():
    definition = {
        "key": "f",
        "enabled": True,
        "percentage": 30,
        "rules": ["^admin-", "01$"],
        "constraints": [{"attribute": "region", "operator": "IN", "values": ["US"]}],
        "environments": ["staging"],
        "users": ["1"],
    }
    environments = migration_environments([definition], "production")
    assert environments == ["default", "production", "staging"]
    flag = to_v2(definition, environments)
    staging = flag["environments"]["staging"]
    assert [r["id"] for r in staging["rules"]] == ["regex-1", "regex-2", "rollout"]
    assert staging["rules"][0]["constraints"] == [{"attribute": "user_id", "operator": "REGEX", "values": ["^admin-"]}]
    assert staging["rules"][2]["percentage"] == 30 and staging["rules"][2]["constraints"] == definition["constraints"]
    assert staging["enabled"] and not flag["environments"]["production"]["enabled"]
    assert flag["environments"]["production"]["rules"] == staging["rules"]  # switched off, not emptied
    plain = to_v2({"key": "p", "enabled": True}, ["default"])
    assert plain["environments"]["default"]["rules"] == []  # 100 %, no constraints, no regexes: no rule
    regex_only = to_v2({"key": "r", "enabled": True, "rules": ["x"]}, ["default"])
    assert [r["id"] for r in regex_only["environments"]["default"]["rules"]] == ["regex-1", "rollout"]
    assert regex_only["environments"]["default"]["rules"][-1]["percentage"] == 100


def test_reason_map():
    plain = {"key": "p", "percentage": 100}
    assert v2_reason(Reason.ROLLOUT, True, plain) is Reason.DEFAULT
    assert v2_reason(Reason.ROLLOUT, True, {"key": "p", "percentage": 40}) is Reason.RULE
    assert v2_reason(Reason.ROLLOUT, False, {"key": "p", "percentage": 40}) is Reason.NO_MATCH
    assert v2_reason(Reason.CONSTRAINT, False, plain) is Reason.NO_MATCH
    assert v2_reason(Reason.RULE, True, plain) is Reason.RULE
    assert v2_reason(Reason.ENVIRONMENT, False, plain) is Reason.OFF
