"""The version-1 reference evaluator (tests/engine/v1_reference), as it was tested before version 2.

Every step and reason code of spec/evaluation.md, in the contract's order."""

from datetime import UTC, datetime, timedelta

import mmh3
import pytest

from featureflags.engine import Context, Decision, InvalidDefinition, Reason
from featureflags.engine.hashing import crc32_bucket, murmur_bucket, variant_target
from tests.engine.v1_reference import CompiledFlag, Snapshot
from tests.engine.v1_reference.snapshot import MAX_PREREQUISITE_DEPTH

NOW = datetime.now(UTC)
USER = Context(user_id="123")


def snap(*definitions, environment=None):
    return Snapshot.from_definitions(definitions, environment=environment)


def flag(key="f", **fields):
    return {"key": key, "enabled": True, **fields}


def reason(snapshot, context=USER, key="f"):
    return snapshot.evaluate(key, context).reason


# -- 1. unknown flag -------------------------------------------------------------------------------


def test_unknown_flag_is_off_never_an_exception():
    s = snap()
    assert s.evaluate("nope", USER) == Decision(False, None, Reason.UNKNOWN_FLAG)
    assert s.evaluate("nope") == Decision(False, None, Reason.UNKNOWN_FLAG)
    assert s.is_enabled("nope", USER) is False
    assert s.variant("nope", USER) is None
    assert "nope" not in s


def test_unknown_flag_returns_the_callers_default():
    s = snap()
    assert s.is_enabled("nope", USER, default=True) is True
    assert s.is_enabled("nope", None, default=True) is True


# -- 2. OFF ------------------------------------------------------------------------------------------


def test_switched_off_wins_over_everything():
    s = snap(
        flag(enabled=False, users=["123"], rules=["."], percentage=100, variants=[{"name": "a", "weight": 1}]),
    )
    for context in (USER, None, Context()):
        assert s.evaluate("f", context) == Decision(False, None, Reason.OFF)
    assert s.is_enabled("f", USER, default=True) is False  # a known flag ignores the default


def test_a_flag_defaults_to_off():
    assert reason(snap({"key": "f"})) is Reason.OFF


# -- 3. ENVIRONMENT ----------------------------------------------------------------------------------


def test_environment_not_listed_is_off():
    s = snap(flag(environments=["staging", "production"]))
    assert reason(s, Context(user_id="1", environment="qa")) is Reason.ENVIRONMENT
    assert reason(s, Context(user_id="1", environment="production")) is Reason.ROLLOUT


def test_environment_falls_back_to_the_snapshots():
    s = snap(flag(environments=["production"]), environment="production")
    assert reason(s, Context(user_id="1")) is Reason.ROLLOUT
    assert reason(s, None) is Reason.GLOBAL
    assert reason(s, Context(user_id="1", environment="qa")) is Reason.ENVIRONMENT  # the call overrides
    unknown = snap(flag(environments=["production"]))
    assert reason(unknown, Context(user_id="1")) is Reason.ENVIRONMENT  # none known: fails closed
    assert reason(unknown, None) is Reason.ENVIRONMENT


def test_no_environments_means_all():
    assert reason(snap(flag(environments=[])), Context(environment="anything")) is Reason.ROLLOUT


def test_environment_comes_before_schedule():
    s = snap(flag(environments=["prod"], start_at=(NOW + timedelta(days=1)).isoformat()))
    assert reason(s, Context(environment="qa")) is Reason.ENVIRONMENT


# -- 4. SCHEDULE -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (timedelta(days=1), None, Reason.SCHEDULE),
        (None, timedelta(days=-1), Reason.SCHEDULE),
        (timedelta(days=-2), timedelta(days=-1), Reason.SCHEDULE),
        (timedelta(days=-1), None, Reason.ROLLOUT),
        (None, timedelta(days=1), Reason.ROLLOUT),
        (timedelta(days=-1), timedelta(days=1), Reason.ROLLOUT),
    ],
)
def test_schedule_window(start, end, expected):
    fields = {}
    if start is not None:
        fields["start_at"] = (NOW + start).isoformat()
    if end is not None:
        fields["end_at"] = NOW + end  # datetimes and ISO strings both work
    s = snap(flag(**fields))
    assert reason(s) is expected
    assert reason(s, None) is (Reason.GLOBAL if expected is Reason.ROLLOUT else Reason.SCHEDULE)


def test_schedule_as_epoch_seconds():
    s = snap(flag(start_at=NOW.timestamp() + 3600))
    assert reason(s) is Reason.SCHEDULE


def test_schedule_comes_before_prerequisites():
    s = snap(
        flag("parent", enabled=False),
        flag(start_at=(NOW + timedelta(days=1)).isoformat(), prerequisites=[{"key": "parent"}]),
    )
    assert reason(s) is Reason.SCHEDULE


# -- 5. PREREQUISITE ---------------------------------------------------------------------------------


def test_prerequisite_off_makes_the_flag_off():
    s = snap(flag("parent", enabled=False), flag(prerequisites=[{"key": "parent"}]))
    assert s.evaluate("f", USER) == Decision(False, None, Reason.PREREQUISITE)
    assert reason(s, None) is Reason.PREREQUISITE  # before GLOBAL


def test_prerequisite_is_evaluated_for_the_same_context():
    s = snap(flag("parent", users=["123"], percentage=0), flag(prerequisites=[{"key": "parent"}]))
    assert reason(s, Context(user_id="123")) is Reason.ROLLOUT
    assert reason(s, Context(user_id="456")) is Reason.PREREQUISITE
    assert reason(s, None) is Reason.GLOBAL  # the parent's global switch is on


def test_every_prerequisite_must_hold():
    s = snap(flag("a"), flag("b", enabled=False), flag(prerequisites=[{"key": "a"}, {"key": "b"}]))
    assert reason(s) is Reason.PREREQUISITE


def test_required_variant():
    variants = [{"name": "blue", "weight": 1}, {"name": "red", "weight": 1}]
    s = snap(
        flag("parent", variants=variants, pinned_variants={"1": "blue", "2": "red"}),
        flag("wants_blue", prerequisites=[{"key": "parent", "variant": "blue"}]),
        flag("any_variant", prerequisites=[{"key": "parent", "variant": None}]),
    )
    assert reason(s, Context(user_id="1"), "wants_blue") is Reason.ROLLOUT
    assert reason(s, Context(user_id="2"), "wants_blue") is Reason.PREREQUISITE
    assert reason(s, Context(user_id="2"), "any_variant") is Reason.ROLLOUT


def test_prerequisites_are_recursive():
    s = snap(flag("a", enabled=False), flag("b", prerequisites=[{"key": "a"}]), flag("c", prerequisites=[{"key": "b"}]))
    assert reason(s, key="c") is Reason.PREREQUISITE
    on = snap(flag("a"), flag("b", prerequisites=[{"key": "a"}]), flag("c", prerequisites=[{"key": "b"}]))
    assert reason(on, key="c") is Reason.ROLLOUT


def test_a_cycle_that_slipped_through_makes_its_flags_off():
    # from_definitions validates each flag alone: the cross-flag cycle check is the write path's.
    s = snap(
        flag("a", prerequisites=[{"key": "b"}]),
        flag("b", prerequisites=[{"key": "a"}]),
        flag("c", prerequisites=[{"key": "a"}]),
        flag("d"),
    )
    for key in ("a", "b", "c"):
        assert s.evaluate(key, USER) == Decision(False, None, Reason.PREREQUISITE)
        assert reason(s, None, key) is Reason.PREREQUISITE
    assert reason(s, key="d") is Reason.ROLLOUT
    assert "cycle" in s.explain("a", USER).steps[-1].detail


def test_missing_prerequisite_makes_the_flag_off():
    s = snap(flag(prerequisites=[{"key": "gone"}]))
    assert reason(s) is Reason.PREREQUISITE


def test_chain_deeper_than_the_limit_is_off():
    n = MAX_PREREQUISITE_DEPTH + 2
    chain = [flag("k0")] + [flag(f"k{i}", prerequisites=[{"key": f"k{i - 1}"}]) for i in range(1, n)]
    s = snap(*chain)
    assert reason(s, key="k5") is Reason.ROLLOUT
    assert reason(s, key=f"k{n - 1}") is Reason.PREREQUISITE


# -- 6. GLOBAL ---------------------------------------------------------------------------------------


def test_no_context_at_all_asks_the_global_switch():
    s = snap(flag(percentage=0, constraints=[{"attribute": "region", "operator": "IN", "values": ["US"]}]))
    assert s.evaluate("f") == Decision(True, None, Reason.GLOBAL)
    assert s.evaluate("f", None) == Decision(True, None, Reason.GLOBAL)
    assert s.is_enabled("f") is True


def test_an_empty_context_goes_through_targeting_and_fails_closed():
    s = snap(
        flag("zero", percentage=0),
        flag("half", percentage=50),
        flag("all", percentage=100),
        flag("constrained", constraints=[{"attribute": "region", "operator": "IN", "values": ["US"]}]),
        flag("targeted", users=["1"], rules=["^1"], percentage=0),
    )
    empty = Context()
    assert s.evaluate("zero", empty) == Decision(False, None, Reason.ROLLOUT)
    assert s.evaluate("half", empty) == Decision(False, None, Reason.ROLLOUT)
    assert s.evaluate("all", empty) == Decision(True, None, Reason.ROLLOUT)
    assert s.evaluate("constrained", empty) == Decision(False, None, Reason.CONSTRAINT)
    assert s.evaluate("targeted", empty) == Decision(False, None, Reason.ROLLOUT)
    assert s.evaluate("zero", Context(environment="prod")).reason is Reason.ROLLOUT


# -- 7-9. EXCLUDED, TARGETED, RULE ---------------------------------------------------------------


def test_excluded_wins_over_users_and_rules():
    s = snap(flag(excluded_users=["123"], users=["123"], rules=["3$"], percentage=100))
    assert s.evaluate("f", USER) == Decision(False, None, Reason.EXCLUDED)
    assert reason(s, Context(user_id="124")) is Reason.ROLLOUT


def test_excluded_in_a_big_list():
    ids = [str(i) for i in range(20_000)]
    s = snap(flag(excluded_users=ids, users=["5"]))
    assert reason(s, Context(user_id="5")) is Reason.EXCLUDED
    assert reason(s, Context(user_id="20000")) is Reason.ROLLOUT


def test_targeted_users_skip_rules_constraints_and_percentage():
    s = snap(
        flag(
            users=["123", 456],
            rules=["^9"],
            constraints=[{"attribute": "region", "operator": "IN", "values": ["US"]}],
            percentage=0,
        )
    )
    assert s.evaluate("f", Context(user_id="123", attributes={"region": "DE"})) == Decision(True, None, Reason.TARGETED)
    assert reason(s, Context(user_id=456)) is Reason.TARGETED  # ids normalised with str()
    assert reason(s, Context(user_id="999")) is Reason.RULE
    assert reason(s, Context(user_id="888", attributes={"region": "US"})) is Reason.ROLLOUT


def test_targeted_in_a_list_of_a_million_style_compact_set():
    s = snap(flag(users=[str(i) for i in range(0, 40_000, 2)], percentage=0))
    assert reason(s, Context(user_id="39998")) is Reason.TARGETED
    assert reason(s, Context(user_id="39999")) is Reason.ROLLOUT


def test_targeting_needs_a_user_id_not_an_anonymous_id():
    s = snap(flag(users=["123"], rules=["."], percentage=0))
    assert reason(s, Context(anonymous_id="123")) is Reason.ROLLOUT


def test_rules_search_the_user_id():
    s = snap(flag(rules=["01$"], percentage=0))
    assert reason(s, Context(user_id="443301")) is Reason.RULE
    assert reason(s, Context(user_id="444401")) is Reason.RULE
    assert reason(s, Context(user_id="444410")) is Reason.ROLLOUT
    middle = snap(flag(rules=["44"], percentage=0))
    assert reason(middle, Context(user_id="1442")) is Reason.RULE  # search, not match


def test_any_rule_may_match():
    s = snap(flag(rules=["^a", "z$", "m"], percentage=0))
    assert [reason(s, Context(user_id=u)) for u in ("abc", "xyz", "hmm", "bcd")] == [
        Reason.RULE,
        Reason.RULE,
        Reason.RULE,
        Reason.ROLLOUT,
    ]


# -- 10. CONSTRAINT ---------------------------------------------------------------------------------


def test_all_constraints_must_hold():
    s = snap(
        flag(
            constraints=[
                {"attribute": "region", "operator": "IN", "values": ["US", "RO"]},
                {"attribute": "app_version", "operator": "SEMVER_GTE", "values": ["2.0.0"]},
            ]
        )
    )
    ok = {"region": "US", "app_version": "2.1.0"}
    assert reason(s, Context(user_id="1", attributes=ok)) is Reason.ROLLOUT
    assert reason(s, Context(user_id="1", attributes={**ok, "region": "DE"})) is Reason.CONSTRAINT
    assert reason(s, Context(user_id="1", attributes={**ok, "app_version": "1.9.9"})) is Reason.CONSTRAINT
    assert reason(s, Context(user_id="1", attributes={"region": "US"})) is Reason.CONSTRAINT


def test_constraints_come_before_the_percentage():
    s = snap(flag(percentage=0, constraints=[{"attribute": "a", "operator": "IN", "values": ["x"]}]))
    assert reason(s, Context(user_id="1")) is Reason.CONSTRAINT
    assert reason(s, Context(user_id="1", attributes={"a": "x"})) is Reason.ROLLOUT


def test_unknown_operator_reaching_the_evaluator_is_a_false_constraint():
    spec = {"key": "f", "enabled": True, "constraints": [{"attribute": "a", "operator": "NOPE", "values": ["x"]}]}
    with pytest.raises(InvalidDefinition):
        CompiledFlag(spec)
    s = Snapshot({"f": CompiledFlag(spec, validate=False)})
    assert s.evaluate("f", Context(attributes={"a": "x"})) == Decision(False, None, Reason.CONSTRAINT)
    assert s.is_enabled("f", USER, default=True) is False  # not UNKNOWN_FLAG, which would give the default


# -- 11. ROLLOUT -----------------------------------------------------------------------------------


def test_rollout_murmur3_bucket():
    # murmur3_32("f:123") % 100 + 1 decides: in when <= percentage.
    bucket = murmur_bucket("f:", "123")
    assert reason(snap(flag(percentage=bucket))) is Reason.ROLLOUT
    assert snap(flag(percentage=bucket)).evaluate("f", USER).enabled is True
    assert snap(flag(percentage=bucket - 1)).evaluate("f", USER).enabled is False


def test_rollout_known_values():
    assert snap(flag("test", percentage=14)).is_enabled("test", USER) is True
    assert snap(flag("test", percentage=13)).is_enabled("test", USER) is False
    assert snap(flag("new_ui", percentage=82)).is_enabled("new_ui", USER) is True
    assert snap(flag("new_ui", percentage=81)).is_enabled("new_ui", USER) is False


def test_percentage_bounds():
    assert snap(flag(percentage=100)).evaluate("f", USER) == Decision(True, None, Reason.ROLLOUT)
    assert snap(flag(percentage=0)).evaluate("f", USER) == Decision(False, None, Reason.ROLLOUT)


def test_crc32_bucketing_is_hanoi():
    # crc32('444401') % 100 == 89 (signed, floor modulo); in when bucket < percentage; unsalted.
    assert crc32_bucket("444401") == 89
    on = snap(flag("a", bucketing="crc32", percentage=90), flag("b", bucketing="crc32", percentage=90, salt="x"))
    off = snap(flag(bucketing="crc32", percentage=89))
    who = Context(user_id="444401")
    assert on.is_enabled("a", who) and on.is_enabled("b", who)
    assert not off.is_enabled("f", who)
    assert snap(flag(bucketing="crc32", percentage=93)).is_enabled("f", Context(user_id="44488"))
    assert not snap(flag(bucketing="crc32", percentage=92)).is_enabled("f", Context(user_id="44488"))


def test_murmur3_and_crc32_disagree_somewhere():
    ids = [str(i) for i in range(200)]
    murmur = snap(flag(percentage=50))
    crc = snap(flag(bucketing="crc32", percentage=50))
    assert [murmur.is_enabled("f", Context(user_id=i)) for i in ids] != [
        crc.is_enabled("f", Context(user_id=i)) for i in ids
    ]


@pytest.mark.parametrize("stickiness", ["default", "user_id", "anonymous_id", "plan"])
@pytest.mark.parametrize("bucketing", ["murmur3", "crc32"])
def test_no_value_to_hash_only_100_is_on(stickiness, bucketing):
    for percentage, expected in ((100, True), (99, False), (50, False), (1, False), (0, False)):
        s = snap(flag(percentage=percentage, stickiness=stickiness, bucketing=bucketing))
        assert s.evaluate("f", Context(environment="prod")) == Decision(expected, None, Reason.ROLLOUT)


def test_stickiness_default_hashes_user_id_else_anonymous_id():
    s = snap(flag(percentage=murmur_bucket("f:", "abc")))
    assert s.is_enabled("f", Context(anonymous_id="abc")) is True
    below = snap(flag(percentage=murmur_bucket("f:", "abc") - 1))
    assert below.is_enabled("f", Context(anonymous_id="abc")) is False
    # with a user id, the anonymous id is ignored
    assert below.is_enabled("f", Context(user_id="abc", anonymous_id="zzz")) is False
    assert s.is_enabled("f", Context(user_id="abc", anonymous_id="zzz")) is True


def test_stickiness_user_id_has_no_fallback():
    p = murmur_bucket("f:", "abc")
    s = snap(flag(percentage=p, stickiness="user_id"))
    assert s.is_enabled("f", Context(user_id="abc")) is True
    assert s.is_enabled("f", Context(anonymous_id="abc")) is False


def test_stickiness_anonymous_id():
    p = murmur_bucket("f:", "anon")
    s = snap(flag(percentage=p, stickiness="anonymous_id"))
    assert s.is_enabled("f", Context(user_id="someone", anonymous_id="anon")) is True
    assert s.is_enabled("f", Context(user_id="anon")) is False
    lower = snap(flag(percentage=p - 1, stickiness="anonymous_id"))
    assert lower.is_enabled("f", Context(user_id="someone", anonymous_id="anon")) is False


def test_stickiness_attribute():
    p = murmur_bucket("f:", "acme")
    s = snap(flag(percentage=p, stickiness="company"))
    assert s.is_enabled("f", Context(user_id="1", attributes={"company": "acme"})) is True
    assert (
        snap(flag(percentage=p - 1, stickiness="company")).is_enabled("f", Context(attributes={"company": "acme"}))
        is False
    )
    assert s.is_enabled("f", Context(user_id="acme")) is False  # no fallback to the user id
    flag_true = snap(flag(percentage=murmur_bucket("f:", "true"), stickiness="beta"))
    assert flag_true.is_enabled("f", Context(attributes={"beta": True})) is True  # booleans hash as "true"


def test_salt_groups_flags():
    ids = [str(i) for i in range(300)]
    s = snap(flag("a", percentage=50, salt="group"), flag("b", percentage=50, salt="group"), flag("c", percentage=50))
    a = [s.is_enabled("a", Context(user_id=i)) for i in ids]
    assert a == [s.is_enabled("b", Context(user_id=i)) for i in ids]
    assert a != [s.is_enabled("c", Context(user_id=i)) for i in ids]
    assert a == [murmur_bucket("group:", i) <= 50 for i in ids]


def test_salt_defaults_to_the_key():
    ids = [str(i) for i in range(300)]
    s = snap(flag("k", percentage=40), flag("other", percentage=40, salt="k"))
    assert [s.is_enabled("k", Context(user_id=i)) for i in ids] == [
        s.is_enabled("other", Context(user_id=i)) for i in ids
    ]


def test_odd_ids_are_hashed_not_crashed():
    s = snap(flag(percentage=50, rules=["x$"], users=[str(i) for i in range(20_000)], variants=[{"name": "a"}]))
    s.evaluate("f", Context(user_id="ab\ud800", anonymous_id="\udc80"))
    assert s.evaluate("f", Context(user_id="ab\ud800")) == s.evaluate("f", Context(user_id="ab\\ud800"))
    sticky = snap(flag(percentage=50, stickiness="team", salt="s\ud800"))
    sticky.evaluate("f", Context(attributes={"team": "\ud800"}))


# -- variants ------------------------------------------------------------------------------------


def unleash_variant(salt, value, variants):
    """Unleash's algorithm, written out: target in 1..total, first running total >= target."""
    total = sum(w for _, w in variants)
    target = mmh3.hash(f"{salt}:{value}", 86028157, signed=False) % total + 1
    running = 0
    for name, weight in variants:
        running += weight
        if running >= target:
            return name
    raise AssertionError


def test_variants_follow_unleash_algorithm():
    variants = [("a", 33), ("b", 33), ("c", 34)]
    s = snap(flag(variants=[{"name": n, "weight": w} for n, w in variants]))
    seen = set()
    for i in range(500):
        d = s.evaluate("f", Context(user_id=str(i)))
        assert d.variant == unleash_variant("f", str(i), variants)
        assert s.variant("f", Context(user_id=str(i))) == d.variant
        seen.add(d.variant)
    assert seen == {"a", "b", "c"}


def test_variants_use_the_salt_and_stickiness():
    variants = [("a", 1), ("b", 1)]
    defs = [{"name": n, "weight": w} for n, w in variants]
    s = snap(flag(variants=defs, salt="grp", stickiness="team"))
    for team in ("x", "y", "z", "w"):
        assert s.variant("f", Context(user_id="1", attributes={"team": team})) == unleash_variant("grp", team, variants)


def test_variant_is_none_when_off_or_without_variants():
    defs = [{"name": "a", "weight": 1}]
    assert snap(flag(percentage=0, variants=defs)).evaluate("f", USER) == Decision(False, None, Reason.ROLLOUT)
    assert snap(flag()).evaluate("f", USER) == Decision(True, None, Reason.ROLLOUT)
    assert snap(flag(enabled=False, variants=defs)).variant("f", USER) is None


def test_zero_weight_variant_is_never_served():
    s = snap(flag(variants=[{"name": "never", "weight": 0}, {"name": "always", "weight": 3}]))
    assert {s.variant("f", Context(user_id=str(i))) for i in range(200)} == {"always"}


def test_no_value_to_hash_variant_is_hashed_from_the_empty_value():
    variants = [("a", 1), ("b", 1), ("c", 1)]
    defs = [{"name": n, "weight": w} for n, w in variants]
    s = snap(flag(variants=defs, salt="v"), flag("g", variants=defs, salt="w"))
    expected = unleash_variant("v", "", variants)
    assert s.evaluate("f", Context()) == Decision(True, expected, Reason.ROLLOUT)
    assert s.evaluate("f", None) == Decision(True, expected, Reason.GLOBAL)
    assert s.variant("g", Context()) == unleash_variant("w", "", variants)
    assert variant_target("v:", "", 3) == mmh3.hash("v:", 86028157, signed=False) % 3 + 1


def test_pinned_variants_win_over_hashing():
    defs = [{"name": "a", "weight": 1}, {"name": "b", "weight": 0}]
    s = snap(flag(variants=defs, pinned_variants={"42": "b", 7: "b"}, users=["42"], percentage=0))
    assert s.evaluate("f", Context(user_id="42")) == Decision(True, "b", Reason.TARGETED)
    assert s.variant("f", Context(user_id=7)) is None  # pinned but not in the rollout: off
    assert s.variant("f", Context(user_id="43")) is None
    on = snap(flag(variants=defs, pinned_variants={"7": "b"}))
    assert on.variant("f", Context(user_id=7)) == "b"
    assert on.variant("f", Context(anonymous_id="7")) == "a"  # pins are by user id


def test_weight_change_moves_only_edge_users():
    before = snap(
        flag(variants=[{"name": "a", "weight": 50}, {"name": "b", "weight": 30}, {"name": "c", "weight": 20}])
    )
    after = snap(flag(variants=[{"name": "a", "weight": 40}, {"name": "b", "weight": 40}, {"name": "c", "weight": 20}]))
    moved = 0
    for i in range(3000):
        who = Context(user_id=str(i))
        old, new = before.variant("f", who), after.variant("f", who)
        if old != new:
            moved += 1
            assert (old, new) == ("a", "b")  # only the edge between a and b moved
    assert 0.07 * 3000 < moved < 0.13 * 3000  # about the 10 % that changed hands


# -- explain -------------------------------------------------------------------------------------


def steps(snapshot, context=USER, key="f"):
    explanation = snapshot.explain(key, context)
    assert explanation.decision == snapshot.evaluate(key, context)
    return [(s.name, s.outcome) for s in explanation.steps]


def test_explain_unknown():
    assert steps(snap(), key="nope") == [("exists", "decided")]


def test_explain_each_reason_ends_with_the_deciding_step():
    future = (NOW + timedelta(days=1)).isoformat()
    s = snap(
        flag("off", enabled=False),
        flag("env", environments=["prod"]),
        flag("sched", start_at=future),
        flag("prereq", prerequisites=[{"key": "off"}]),
        flag("excl", excluded_users=["123"]),
        flag("tgt", users=["123"], excluded_users=["9"]),
        flag("rule", rules=["23$"], percentage=0),
        flag("cons", constraints=[{"attribute": "a", "operator": "IN", "values": ["x"]}]),
        flag("roll", percentage=100, rules=["^9"]),
    )
    assert steps(s, key="off") == [("switch", "decided")]
    assert steps(s, Context(user_id="1", environment="qa"), "env")[-1] == ("environment", "decided")
    assert steps(s, key="sched")[-1] == ("schedule", "decided")
    assert steps(s, key="prereq")[-1] == ("prerequisites", "decided")
    assert steps(s, None, "roll") == [("switch", "pass"), ("environment", "pass"), ("context", "decided")]
    assert steps(s, key="excl")[-1] == ("excluded_users", "decided")
    assert steps(s, key="tgt")[-2:] == [("excluded_users", "pass"), ("users", "decided")]
    assert steps(s, key="rule")[-1] == ("rules", "decided")
    assert steps(s, key="cons")[-1] == ("constraint", "decided")
    assert steps(s, key="roll")[-2:] == [("rules", "pass"), ("rollout", "decided")]


def test_explain_details_name_the_values():
    s = snap(flag("rule", rules=["01$"], percentage=0), flag("roll", percentage=50), flag("nohash", percentage=50))
    assert "'01$'" in s.explain("rule", Context(user_id="444401")).steps[-1].detail
    detail = s.explain("roll", USER).steps[-1].detail
    assert f"Bucket {murmur_bucket('roll:', '123')}" in detail
    assert "No value to hash" in s.explain("nohash", Context()).steps[-1].detail
    prereq = snap(flag("p", enabled=False), flag(prerequisites=[{"key": "p"}]))
    assert "p: off (OFF)" in prereq.explain("f", USER).steps[-1].detail


def test_explain_as_dict():
    data = snap(flag(percentage=100)).explain("f", USER).as_dict()
    assert data["enabled"] is True and data["reason"] == "ROLLOUT" and data["key"] == "f"
    assert data["steps"][-1]["name"] == "rollout"


# -- the snapshot itself ---------------------------------------------------------------------------


def test_replace_swaps_and_removes_flags_without_touching_the_original():
    s = snap(flag("a"), flag("b"), environment="prod")
    changed = s.replace(changed=[CompiledFlag(flag("a", enabled=False))], removed=["b"], version=7)
    assert changed.version == 7 and changed.environment == "prod"
    assert reason(changed, key="a") is Reason.OFF and "b" not in changed
    assert reason(s, key="a") is Reason.ROLLOUT and "b" in s and len(s) == 2


def test_replace_recomputes_cycles():
    s = snap(flag("a"), flag("b", prerequisites=[{"key": "a"}]))
    cyclic = s.replace(changed=[CompiledFlag(flag("a", prerequisites=[{"key": "b"}]))])
    assert reason(cyclic, key="b") is Reason.PREREQUISITE


def test_invalid_definition_is_refused_with_every_field():
    with pytest.raises(InvalidDefinition) as error:
        CompiledFlag({"key": "bad key", "percentage": 101, "rules": ["(?=x)"]})
    fields = {e.field for e in error.value.errors}
    assert {"key", "percentage", "rules.0"} <= fields


def test_crc32_inv_is_hanoi_004_inverted_test_with_fixed_ends():
    """spec/hanoi-compat.md: unsigned crc32, in when bucket >= percentage, 0 % nobody, 100 % everybody."""
    who = Context(user_id="444401")  # unsigned crc32 % 100 == 85
    assert snap(flag(bucketing="crc32_inv", percentage=85)).is_enabled("f", who) is True
    assert snap(flag(bucketing="crc32_inv", percentage=86)).is_enabled("f", who) is False
    everyone = [Context(user_id=str(i)) for i in range(200)]
    assert not any(snap(flag(bucketing="crc32_inv", percentage=0)).is_enabled("f", c) for c in everyone)
    assert all(snap(flag(bucketing="crc32_inv", percentage=100)).is_enabled("f", c) for c in everyone)


def test_explain_skips_the_user_steps_without_a_user_id():
    s = snap(flag(excluded_users=["1"], users=["2"], rules=["3"], percentage=0))
    explained = s.explain("f", Context(anonymous_id="1"))
    assert [(x.name, x.outcome) for x in explained.steps[-4:]] == [
        ("excluded_users", "skipped"),
        ("users", "skipped"),
        ("rules", "skipped"),
        ("rollout", "decided"),
    ]
    assert explained.decision.reason is Reason.ROLLOUT
