"""The version-1 reference evaluator (tests/engine/v1_reference), as it was tested before version 2.

The optimised evaluator against a plain reading of spec/evaluation.md, on random flags and contexts.

The reference below is written from the contract's text, step by step, with none of the
engine's shortcuts (prebuilt results, inlined hashing, RE2 sets, compact id sets,
memoised constraints), so any disagreement is a bug in one of them.
"""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime, timedelta

import mmh3
from hypothesis import given, settings
from hypothesis import strategies as st

from featureflags.engine import Context, Reason
from tests.engine.v1_reference import Snapshot
from tests.engine.v1_reference.by_id import id_variant

KEYS = ["a", "b", "c", "d"]
IDS = ["1", "2", "12", "123", "444401", "44488", "x9", ""]
RULES = ["^1", "2$", "44", "x"]
NOW = datetime.now(UTC)


def signed_crc32(value: str) -> int:
    crc = zlib.crc32(value.encode())
    return crc - 2**32 if crc >= 2**31 else crc


def reference_constraint(spec, context: Context) -> bool:
    name = spec["attribute"]
    value = {"user_id": context.user_id, "anonymous_id": context.anonymous_id, "environment": context.environment}.get(
        name, context.attributes.get(name) if name not in ("user_id", "anonymous_id", "environment") else None
    )
    operator, values = spec["operator"], spec["values"]
    if value is None:
        result = operator == "NOT_IN"
    else:
        text = "true" if value is True else "false" if value is False else str(value)
        if operator == "IN":
            result = text in values
        elif operator == "NOT_IN":
            result = text not in values
        elif operator == "STR_STARTS_WITH":
            if spec.get("case_insensitive"):
                result = any(text.lower().startswith(v.lower()) for v in values)
            else:
                result = any(text.startswith(v) for v in values)
        elif operator == "NUM_GT":
            try:
                result = float(text) > float(values[0]) and re.fullmatch(r"-?\d+(\.\d+)?", text) is not None
            except ValueError:
                result = False
        else:
            raise AssertionError(operator)
    return result != bool(spec.get("inverted"))


def reference(definitions, key, context, environment, path=()):
    """(enabled, variant, reason) by the contract's steps."""
    d = definitions.get(key)
    if d is None:
        return (False, None, Reason.UNKNOWN_FLAG)
    if not d.get("enabled"):
        return (False, None, Reason.OFF)
    if d.get("environments"):
        env = context.environment if context is not None and context.environment is not None else environment
        if env not in d["environments"]:
            return (False, None, Reason.ENVIRONMENT)
    now = NOW.timestamp()
    if d.get("start_at") is not None and now < d["start_at"].timestamp():
        return (False, None, Reason.SCHEDULE)
    if d.get("end_at") is not None and now >= d["end_at"].timestamp():
        return (False, None, Reason.SCHEDULE)
    for prerequisite in d.get("prerequisites", []):
        parent = prerequisite["key"]
        if parent in path or parent == key:
            return (False, None, Reason.PREREQUISITE)
        enabled, variant, _ = reference(definitions, parent, context, environment, (*path, key))
        if not enabled or (prerequisite.get("variant") and variant != prerequisite["variant"]):
            return (False, None, Reason.PREREQUISITE)
    if context is None:
        return (True, reference_variant(d, None), Reason.GLOBAL)
    uid = context.user_id
    if uid is not None and uid in d.get("excluded_users", []):
        return (False, None, Reason.EXCLUDED)
    if uid is not None and uid in d.get("users", []):
        return (True, reference_variant(d, context), Reason.TARGETED)
    if uid is not None and any(re.search(rule, uid) for rule in d.get("rules", [])):
        return (True, reference_variant(d, context), Reason.RULE)
    for spec in d.get("constraints", []):
        if not reference_constraint(spec, context):
            return (False, None, Reason.CONSTRAINT)
    percentage = d.get("percentage", 100)
    value = sticky(d, context)
    if not value:
        on = percentage == 100
    elif d.get("bucketing") == "crc32":
        on = signed_crc32(value) % 100 < percentage
    else:
        salt = d.get("salt") or key
        on = mmh3.hash(f"{salt}:{value}", 0, signed=False) % 100 + 1 <= percentage
    return (on, reference_variant(d, context) if on else None, Reason.ROLLOUT)


def sticky(d, context):
    if context is None:
        return None
    stickiness = d.get("stickiness", "default")
    if stickiness == "default":
        return context.user_id or context.anonymous_id
    if stickiness == "user_id":
        return context.user_id
    if stickiness == "anonymous_id":
        return context.anonymous_id
    raw = context.attributes.get(stickiness)
    return None if raw is None else ("true" if raw is True else "false" if raw is False else str(raw))


def reference_variant(d, context):
    variants = d.get("variants", [])
    if not variants:
        return None
    if context is not None and context.user_id in d.get("pinned_variants", {}):
        return d["pinned_variants"][context.user_id]
    value = sticky(d, context) or ""
    total = sum(v["weight"] for v in variants)
    if d.get("bucketing") == "crc32":
        target = signed_crc32(value) % total + 1
    else:
        target = mmh3.hash(f"{d.get('salt') or d['key']}:{value}", 86028157, signed=False) % total + 1
    running = 0
    for v in variants:
        running += v["weight"]
        if running >= target:
            return v["name"]
    raise AssertionError


constraints = st.one_of(
    st.fixed_dictionaries(
        {
            "attribute": st.sampled_from(["region", "user_id", "environment"]),
            "operator": st.sampled_from(["IN", "NOT_IN"]),
            "values": st.lists(st.sampled_from(["US", "us", "1", "prod", "true"]), max_size=3),
            "inverted": st.booleans(),
            "case_insensitive": st.booleans(),
        }
    ),
    st.fixed_dictionaries(
        {
            "attribute": st.just("region"),
            "operator": st.just("STR_STARTS_WITH"),
            "values": st.lists(st.sampled_from(["U", "u", "D"]), min_size=1, max_size=2),
            "inverted": st.booleans(),
            "case_insensitive": st.booleans(),
        }
    ),
    st.fixed_dictionaries(
        {
            "attribute": st.just("n"),
            "operator": st.just("NUM_GT"),
            "values": st.sampled_from([["3"], ["-1"], ["10.5"]]),
            "inverted": st.booleans(),
        }
    ),
)


@st.composite
def flag_sets(draw):
    keys = KEYS[: draw(st.integers(1, len(KEYS)))]
    definitions = {}
    for key in keys:
        names = draw(st.lists(st.sampled_from(["red", "green", "blue"]), unique=True, max_size=3))
        weights = [draw(st.integers(0, 5)) for _ in names]
        if names and sum(weights) == 0:
            weights[0] = 1
        d = {
            "key": key,
            "enabled": draw(st.booleans()) or draw(st.booleans()),
            "percentage": draw(st.sampled_from([0, 1, 30, 50, 89, 90, 99, 100])),  # edges set below
            "users": draw(st.lists(st.sampled_from(IDS[:-1]), max_size=3)),
            "excluded_users": draw(st.lists(st.sampled_from(IDS[:-1]), max_size=2)),
            "rules": draw(st.lists(st.sampled_from(RULES), max_size=2, unique=True)),
            "constraints": draw(st.lists(constraints, max_size=2)),
            "stickiness": draw(st.sampled_from(["default", "user_id", "anonymous_id", "team"])),
            "salt": draw(st.sampled_from(["", "grp"])),
            "bucketing": draw(st.sampled_from(["murmur3", "crc32"])),
            "variants": [{"name": n, "weight": w} for n, w in zip(names, weights, strict=True)],
            "environments": draw(st.sampled_from([[], ["prod"], ["prod", "qa"]])),
        }
        if draw(st.booleans()):  # a percentage right at some id's bucket: off-by-one errors show
            edge_id = draw(st.sampled_from(IDS[:-1]))
            if d["bucketing"] == "crc32":
                d["percentage"] = signed_crc32(edge_id) % 100 + draw(st.integers(0, 1))
            else:
                salt = d["salt"] or key
                d["percentage"] = mmh3.hash(f"{salt}:{edge_id}", 0, signed=False) % 100 + 1 - draw(st.integers(0, 1))
        if names and draw(st.booleans()):
            d["pinned_variants"] = {draw(st.sampled_from(IDS[:-1])): draw(st.sampled_from(names))}
        window = draw(st.sampled_from(["none", "open", "future", "past"]))
        if window == "open":
            d["start_at"], d["end_at"] = NOW - timedelta(days=1), NOW + timedelta(days=1)
        elif window == "future":
            d["start_at"] = NOW + timedelta(days=1)
        elif window == "past":
            d["end_at"] = NOW - timedelta(days=1)
        definitions[key] = d
    for key in keys:  # prerequisites may form cycles: the engine must treat them as off
        others = [k for k in keys if k != key]
        if others and draw(st.booleans()):
            parent = draw(st.sampled_from(others))
            names = [v["name"] for v in definitions[parent]["variants"]]
            variant = draw(st.sampled_from([None, *names]))
            definitions[key]["prerequisites"] = [{"key": parent, "variant": variant}]
    return definitions


contexts = st.one_of(
    st.none(),
    st.builds(
        Context,
        user_id=st.sampled_from([None, *IDS]),
        anonymous_id=st.sampled_from([None, "", "anon1", "123"]),
        attributes=st.fixed_dictionaries(
            {},
            optional={
                "region": st.sampled_from(["US", "us", "DE", "", None]),
                "n": st.sampled_from(["4", "-2", "11", "abc", 5, None]),
                "team": st.sampled_from(["t1", "t2", True, 7]),
            },
        ),
        environment=st.sampled_from([None, "prod", "qa", "dev"]),
    ),
)


@settings(max_examples=200, deadline=None)
@given(definitions=flag_sets(), context=contexts, environment=st.sampled_from([None, "prod", "dev"]))
def test_engine_agrees_with_a_plain_reading_of_the_contract(definitions, context, environment):
    snapshot = Snapshot.from_definitions(definitions.values(), environment=environment)
    for key in [*definitions, "missing"]:
        decision = snapshot.evaluate(key, context)
        expected = reference(definitions, key, context, environment)
        assert (decision.enabled, decision.variant, decision.reason) == expected, (
            key,
            definitions.get(key, None),
        )
        assert snapshot.is_enabled(key, context) is decision.enabled
        assert snapshot.variant(key, context) == decision.variant
        assert snapshot.explain(key, context).decision == decision


@settings(max_examples=300, deadline=None)
@given(definitions=flag_sets(), environment=st.sampled_from([None, "prod", "dev"]))
def test_bare_id_fast_path_agrees_with_the_contract(definitions, environment):
    """engine/by_id.py: each flag specialised to a bare user id decides as the contract does."""
    snapshot = Snapshot.from_definitions(definitions.values(), environment=environment)
    assert snapshot.id_decider("missing") is None
    for key in definitions:
        decide = snapshot.id_decider(key)
        choose = id_variant(snapshot.flags[key], decide)
        for user_id in IDS:
            enabled, variant, _reason = reference(definitions, key, Context(user_id), environment)
            assert (decide(user_id), choose(user_id)) == (enabled, variant), (key, user_id, definitions[key])
