"""The version-2 contract, step by step (spec/evaluation.md, "Order of evaluation" and "Hashing")."""

from __future__ import annotations

import time
import zlib
from datetime import UTC, datetime, timedelta

import mmh3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from featureflags.engine import Context, Reason, Snapshot, validate_flag, validate_flags
from featureflags.engine.constraints import compile_conjunction, compile_constraint
from featureflags.engine.limits import MAX_ATTRIBUTE_LENGTH, MAX_RULES
from featureflags.engine.rules import compile_rules

NOW = datetime.now(UTC)


def flag(key="f", rules=None, enabled=True, environment="default", **fields):
    targeting = {"enabled": enabled, "rules": rules or []}
    targeting.update(
        {
            k: fields.pop(k)
            for k in list(fields)
            if k in ("users", "excluded_users", "pinned_variants", "start_at", "end_at")
        }
    )
    return {"schema": 2, "key": key, "environments": {environment: targeting}, **fields}


def rule(rule_id="r1", **fields):
    return {"id": rule_id, **fields}


def snap(*definitions, environment=None, segments=None):
    return Snapshot.from_definitions(definitions, environment=environment, segments=segments)


def test_unknown_flag():
    decision = snap().evaluate("missing", Context("1"))
    assert (decision.enabled, decision.reason) == (False, Reason.UNKNOWN_FLAG)


def test_no_targeting_for_the_environment():
    s = snap(flag(environment="production"), environment="production")
    assert s.evaluate("f", Context("1")).reason is Reason.DEFAULT
    assert s.evaluate("f", Context("1", environment="qa")).reason is Reason.ENVIRONMENT  # computed on demand


def test_another_environment_is_computed_on_demand():
    definition = flag(environment="production", rules=[rule(percentage=0)])
    definition["environments"]["staging"] = {"enabled": True, "rules": []}
    s = snap(definition, environment="production")
    compiled = s.flags["f"]
    assert set(compiled.targetings) == {"production"}  # the deployment's, compiled in
    assert s.evaluate("f", Context("1")).reason is Reason.NO_MATCH
    assert s.evaluate("f", Context("1", environment="staging")).reason is Reason.DEFAULT
    assert set(compiled.targetings) == {"production", "staging"}


def test_off_wins_over_everything():
    s = snap(flag(enabled=False, users=["1"]))
    assert s.evaluate("f", Context("1")).reason is Reason.OFF
    assert s.evaluate("f").reason is Reason.OFF


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        (NOW + timedelta(days=1), None, Reason.SCHEDULE),
        (None, NOW - timedelta(days=1), Reason.SCHEDULE),
        (NOW - timedelta(days=1), NOW + timedelta(days=1), Reason.DEFAULT),
    ],
)
def test_schedule(start, end, reason):
    s = snap(flag(start_at=start and start.isoformat(), end_at=end and end.isoformat()))
    assert s.evaluate("f", Context("1")).reason is reason


def test_prerequisites_on_off_and_variants():
    parent = flag("p", rules=[rule(percentage=100)], variants=[{"name": "a", "weight": 1}])
    on = flag("on", prerequisites=[{"flag": "p"}])
    off = flag("off", prerequisites=[{"flag": "p", "enabled": False}])
    wants_a = flag("wants_a", prerequisites=[{"flag": "p", "variants": ["a", "z"]}])
    wants_b = flag("wants_b", prerequisites=[{"flag": "p", "variants": ["b"]}])
    s = snap(parent, on, off, wants_a, wants_b)
    who = Context("1")
    assert s.evaluate("on", who).reason is Reason.DEFAULT
    assert s.evaluate("off", who).reason is Reason.PREREQUISITE
    assert s.evaluate("wants_a", who).reason is Reason.DEFAULT
    assert s.evaluate("wants_b", who).reason is Reason.PREREQUISITE
    s2 = snap({**parent, "environments": {"default": {"enabled": False}}}, off)
    assert s2.evaluate("off", who).reason is Reason.DEFAULT


def test_prerequisites_are_memoised_once_per_decision():
    """6 layers of 10 flags, each requiring all 10 of the layer below: 10**6 paths, 60 flags."""
    definitions = [flag(f"l0_{i}") for i in range(10)]
    for layer in range(1, 7):
        definitions += [
            flag(f"l{layer}_{i}", prerequisites=[{"flag": f"l{layer - 1}_{j}"} for j in range(10)]) for i in range(10)
        ]
    s = snap(*definitions)
    start = time.perf_counter()
    assert s.evaluate("l6_0", Context("1")).reason is Reason.DEFAULT
    assert time.perf_counter() - start < 0.05  # 10**6 evaluations would take seconds


def test_duplicate_prerequisites_and_cycles_are_refused():
    errors = validate_flag(flag("c", prerequisites=[{"flag": "p"}, {"flag": "p"}]))
    assert [e.field for e in errors] == ["prerequisites.1.flag"]
    cycle = {"a": flag("a", prerequisites=[{"flag": "b"}]), "b": flag("b", prerequisites=[{"flag": "a"}])}
    assert {e.field for e in validate_flags(cycle)} == {"prerequisites"}
    chain = {f"c{i}": flag(f"c{i}", prerequisites=[{"flag": f"c{i + 1}"}] if i < 40 else []) for i in range(41)}
    assert {e.key for e in validate_flags(chain)} == {f"c{i}" for i in range(41 - 32 - 1)}
    s = Snapshot.from_definitions(cycle.values())  # one that slips through is off
    assert s.evaluate("a", Context("1")).reason is Reason.PREREQUISITE


def test_global_excluded_targeted_default():
    s = snap(flag(users=["1", "2"], excluded_users=["2"], rules=[rule(percentage=0)]), flag("plain"))
    assert s.evaluate("f").reason is Reason.GLOBAL
    assert s.evaluate("f", Context("2")).reason is Reason.EXCLUDED
    assert s.evaluate("f", Context("1")).reason is Reason.TARGETED
    assert s.evaluate("f", Context("3")).reason is Reason.NO_MATCH
    assert s.evaluate("plain", Context()).reason is Reason.DEFAULT  # an empty context goes through targeting


def test_rules_in_order_first_that_holds_decides():
    rules = [
        rule("qa", segments=["qa"]),
        rule("us-beta", constraints=[{"attribute": "region", "operator": "IN", "values": ["US"]}], percentage=50),
        rule("everyone", percentage=5),
    ]
    segments = [{"key": "qa", "included": ["qa-1"]}]
    s = snap(flag(rules=rules), segments=segments)
    decision = s.evaluate("f", Context("qa-1"))
    assert (decision.reason, decision.rule) == (Reason.RULE, "qa")
    decided = {s.evaluate("f", Context(str(i), {"region": "US"})).rule for i in range(400)}
    assert decided == {"us-beta", None}  # one salt: out of 50 % is out of 5 % too
    decided = {s.evaluate("f", Context(str(i), {"region": "FR"})).rule for i in range(400)}
    assert decided == {"everyone", None}
    decision = s.evaluate("f", Context("nobody", {"region": "FR"}))
    assert decision.reason in (Reason.RULE, Reason.NO_MATCH)


def test_segment_semantics():
    segment = {
        "key": "beta",
        "included": ["1"],
        "excluded": ["2"],
        "constraints": [{"attribute": "beta", "operator": "IN", "values": ["true"]}],
    }
    empty = {"key": "empty", "included": ["1"]}
    s = snap(
        flag(rules=[rule(segments=["beta"])]), flag("e", rules=[rule(segments=["empty"])]), segments=[segment, empty]
    )
    assert s.is_enabled("f", Context("1"))  # included
    assert not s.is_enabled("f", Context("2", {"beta": True}))  # excluded
    assert s.is_enabled("f", Context("3", {"beta": True}))  # constraints
    assert not s.is_enabled("e", Context("3", {"beta": True}))  # no constraints: only the included
    missing = snap(flag(rules=[rule(segments=["nope"])]))  # one that slipped through matches nobody
    assert missing.evaluate("f", Context("1")).reason is Reason.NO_MATCH
    assert [e.field for e in validate_flag(flag(rules=[rule(segments=["nope"])]), segments=["beta"])] == [
        "environments.default.rules.0.segments.0"
    ]


def test_typed_values_pinned_and_rule_variants():
    definition = flag(
        rules=[
            rule(
                "two",
                constraints=[{"attribute": "plan", "operator": "IN", "values": ["pro"]}],
                variants=[{"name": "two", "weight": 1, "value": "two_step"}],
            ),
            rule("all"),
        ],
        value_type="string",
        variants=[{"name": "single", "weight": 1, "value": "single_page"}],
        pinned_variants={"42": "two"},
    )
    s = snap(definition)
    assert s.evaluate("f", Context("1")).value == "single_page"
    decision = s.evaluate("f", Context("1", {"plan": "pro"}))
    assert (decision.variant, decision.value, decision.rule) == ("two", "two_step", "two")
    assert s.evaluate("f", Context("42")).value == "two_step"  # pinned
    assert s.value("f", Context("1")) == "single_page"
    assert s.value("missing", Context("1"), "fallback") == "fallback"
    boolean = snap(flag("b"))
    assert boolean.evaluate("b", Context("1")).value is True
    errors = validate_flag(flag(value_type="number", variants=[{"name": "a", "weight": 1, "value": "x"}]))
    assert [e.field for e in errors] == ["variants.0.value"]


def test_environment_constraint_sees_the_deployment():
    on_prod = rule(constraints=[{"attribute": "environment", "operator": "IN", "values": ["production"]}])
    s = snap(flag(rules=[on_prod], environment="production"), environment="production")
    assert s.evaluate("f", Context("1")).reason is Reason.RULE


def test_no_value_to_hash_only_100_holds():
    s = snap(flag("a", rules=[rule(percentage=100, stickiness="user_id")]), flag("b", rules=[rule(percentage=99.999)]))
    assert s.is_enabled("a", Context(anonymous_id="x"))
    assert not s.is_enabled("b", Context())


def test_explain_names_what_failed_rule_by_rule():
    rules = [
        rule("seg", segments=["beta"]),
        rule("con", constraints=[{"attribute": "region", "operator": "IN", "values": ["US"]}]),
        rule("pct", percentage=0.001),
    ]
    s = snap(flag(rules=rules), segments=[{"key": "beta", "included": ["x"]}])
    steps = s.explain("f", Context("1", {"region": "DE"})).steps
    details = " ".join(step.detail for step in steps)
    assert "segment 'beta' does not match" in details
    assert "region IN ['US'] fails (region is 'DE')" in details
    assert "outside 0.001 %" in details
    assert "None" not in details
    assert steps[-1].name == "rules" and steps[-1].outcome == "decided"


# -- hashing ----------------------------------------------------------------------------------------


def test_known_values():
    assert mmh3.hash("test:123", 0, False) % 100 + 1 == 14
    assert mmh3.hash("new_ui:123", 0, False) % 100 + 1 == 82
    crc = zlib.crc32(b"444401")
    assert (crc - (1 << 32) if crc & 0x80000000 else crc) % 100 == 89
    crc = zlib.crc32(b"44488")
    assert (crc - (1 << 32) if crc & 0x80000000 else crc) % 100 == 92
    match = compile_rules(["01$"])
    assert match("443301") and match("444401")
    hanoi = snap(flag("h", rules=[rule(percentage=90)], bucketing="crc32"))
    assert hanoi.is_enabled("h", Context("444401")) and not hanoi.is_enabled("h", Context("44488"))


def share(percentage: float, n: int = 100_000) -> float:
    s = snap(flag(rules=[rule(percentage=percentage)]))
    decide = s.id_decider("f")
    return sum(decide(str(i)) for i in range(n)) / n


def test_uniformity():
    assert 0.29 <= share(30) <= 0.31
    assert 0.004 <= share(0.5) <= 0.006


def test_independence():
    s = snap(flag("a", rules=[rule(percentage=50)]), flag("b", rules=[rule(percentage=50)]))
    a, b = s.id_decider("a"), s.id_decider("b")
    both = sum(a(str(i)) and b(str(i)) for i in range(100_000)) / 100_000
    assert 0.23 <= both <= 0.27


thousandths = st.integers(0, 100_000)


@settings(max_examples=200, deadline=None)
@given(thousandths, thousandths, st.text(st.characters(codec="ascii"), min_size=1, max_size=12))
def test_monotonic_with_decimals(low, high, user_id):
    p, q = sorted((low / 1000, high / 1000))
    s = snap(flag("p", rules=[rule(percentage=p)], salt="s"), flag("q", rules=[rule(percentage=q)], salt="s"))
    assert not s.is_enabled("p", Context(user_id)) or s.is_enabled("q", Context(user_id))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 100), st.text(st.characters(codec="ascii"), max_size=12))
def test_whole_percentages_are_unleash_gradual_rollout(percentage, user_id):
    s = snap(flag(rules=[rule(percentage=percentage)]))
    unleash = bool(user_id) and mmh3.hash(f"f:{user_id}", 0, False) % 100 + 1 <= percentage
    assert s.is_enabled("f", Context(user_id)) is (unleash or percentage == 100)
    assert s.id_decider("f")(user_id) is s.is_enabled("f", Context(user_id))


# -- validation: limits, names, compiling what is accepted --------------------------------------------


def test_limits_name_the_field():
    too_many = flag(rules=[rule(f"r{i}") for i in range(MAX_RULES + 1)])
    assert [e.field for e in validate_flag(too_many)] == ["environments.default.rules"]
    bad_pct = flag(rules=[rule(), rule("r2"), rule("r3", percentage=1.0001)])
    assert [e.field for e in validate_flag(bad_pct)] == ["environments.default.rules.2.percentage"]
    hanoi_decimal = flag(rules=[rule(percentage=1.5)], bucketing="crc32")
    assert [e.field for e in validate_flag(hanoi_decimal)] == ["environments.default.rules.0.percentage"]
    long_pattern = flag(
        rules=[rule(constraints=[{"attribute": "user_id", "operator": "REGEX", "values": ["a" * 1001]}])]
    )
    assert [e.field for e in validate_flag(long_pattern)] == ["environments.default.rules.0.constraints.0.values.0"]
    assert [e.field for e in validate_flag({**flag(), "colour": 1})] == ["colour"]


def test_what_validation_accepts_compiles_and_evaluates():
    definition = flag(
        rules=[
            rule(f"r{i}", constraints=[{"attribute": "user_id", "operator": "REGEX", "values": [f"^{i}x"]}])
            for i in range(MAX_RULES)
        ]
    )
    assert validate_flag(definition) == []
    s = snap(definition)
    assert s.evaluate("f", Context("7x")).rule == "r7"
    assert s.evaluate("f", Context("nothing")).reason is Reason.NO_MATCH


def test_constraint_parsing_is_linear_and_capped():
    check = compile_constraint({"attribute": "n", "operator": "NUM_GT", "values": ["1"]})
    start = time.perf_counter()
    assert not check(Context(attributes={"n": "1" * 30_000 + "x"}))
    assert not check(Context(attributes={"n": "9" * (MAX_ATTRIBUTE_LENGTH + 1)}))
    assert check(Context(attributes={"n": "9" * MAX_ATTRIBUTE_LENGTH}))
    assert time.perf_counter() - start < 0.05


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "attribute": st.sampled_from(["a", "b", "user_id", "environment"]),
                "operator": st.sampled_from(["IN", "NOT_IN", "STR_STARTS_WITH", "STR_CONTAINS", "NUM_GT", "SEMVER_LT"]),
                "values": st.sampled_from([["1"], ["x", "2.0.0"], ["2.0.0"]]),
                "inverted": st.booleans(),
                "case_insensitive": st.booleans(),
            }
        ),
        min_size=1,
        max_size=6,
    ),
    st.dictionaries(st.sampled_from(["a", "b"]), st.sampled_from(["1", "X", "2", "1.0.0", 3, ["1"], True]), max_size=2),
    st.sampled_from([None, "1", "x2"]),
)
def test_compiled_conjunction_agrees_with_each_constraint(specs, attributes, user_id):
    context = Context(user_id, attributes, environment="qa")
    conjunction = compile_conjunction(specs, strict=False)  # a value that does not parse: false, both ways
    expected = all(compile_constraint(spec, strict=False)(context) for spec in specs)
    assert (conjunction(context) if conjunction else True) is expected


# -- the bare-id fast path agrees with the evaluator, on version-2 shapes -----------------------------

SEGMENTS = [
    {"key": "listed", "included": ["1", "2", "admin-3"]},
    {
        "key": "by_id",
        "excluded": ["2"],
        "constraints": [{"attribute": "user_id", "operator": "STR_STARTS_WITH", "values": ["admin-"]}],
    },
    {
        "key": "by_region",
        "included": ["5"],
        "constraints": [{"attribute": "region", "operator": "IN", "values": ["US"]}],
    },
]
random_rules = st.fixed_dictionaries(
    {
        "segments": st.lists(st.sampled_from(["listed", "by_id", "by_region", "missing"]), max_size=2, unique=True),
        "constraints": st.lists(
            st.sampled_from(
                [
                    {"attribute": "user_id", "operator": "REGEX", "values": ["1$"]},
                    {"attribute": "user_id", "operator": "IN", "values": ["4", "7"]},
                    {"attribute": "region", "operator": "NOT_IN", "values": ["FR"]},
                    {"attribute": "region", "operator": "IN", "values": ["US"], "inverted": True},
                    {"attribute": "environment", "operator": "IN", "values": ["production"]},
                    {"attribute": "anonymous_id", "operator": "IN", "values": ["a"]},
                ]
            ),
            max_size=2,
        ),
        "percentage": st.sampled_from([0, 0.5, 12.345, 50, 99.999, 100]),
        "stickiness": st.sampled_from(["default", "user_id", "anonymous_id", "plan"]),
        "variants": st.sampled_from([[], [{"name": "r1", "weight": 1}, {"name": "r2", "weight": 3}]]),
    }
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(random_rules, max_size=4),
    st.lists(st.sampled_from(["1", "2", "admin-3", "4", "5", "11", "21", "x"]), max_size=2),
    st.sampled_from([[], [{"name": "a", "weight": 1}, {"name": "b", "weight": 2}]]),
    st.sampled_from(["production", "staging"]),
)
def test_bare_id_path_agrees_with_the_evaluator(rules, users, variants, deployment):
    rules = [{"id": f"r{i}", **r} for i, r in enumerate(rules)]
    definition = flag(rules=rules, users=users[:1], excluded_users=users[1:], variants=variants, environment=deployment)
    s = snap(definition, environment=deployment, segments=SEGMENTS)
    decide = s.id_decider("f")
    choose = s.id_variant("f", decide)
    for user_id in ["1", "2", "admin-3", "4", "5", "7", "11", "21", "x", "y" * 30]:
        decision = s.evaluate("f", Context(user_id))
        assert decide(user_id) is decision.enabled
        assert choose(user_id) == decision.variant
