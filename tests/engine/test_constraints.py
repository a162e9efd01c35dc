"""Constraints: Unleash's operators and semantics (spec/evaluation.md, "A flag")."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from featureflags.engine import Context
from featureflags.engine.constraints import OPERATORS, ConstraintError, as_text, compile_constraint, parse_date


def holds(operator, values, value=None, *, attribute="a", absent=False, **options):
    spec = {"attribute": attribute, "operator": operator, "values": values, **options}
    attributes = {} if absent else {attribute: value}
    return compile_constraint(spec)(Context(attributes=attributes))


def test_operator_set_is_unleash_plus_cidr_and_regex():
    assert {
        "IN", "NOT_IN", "STR_CONTAINS", "STR_STARTS_WITH", "STR_ENDS_WITH",
        "NUM_EQ", "NUM_GT", "NUM_GTE", "NUM_LT", "NUM_LTE", "DATE_AFTER", "DATE_BEFORE",
        "SEMVER_EQ", "SEMVER_GT", "SEMVER_GTE", "SEMVER_LT", "SEMVER_LTE", "REGEX", "IN_CIDR",
    } == OPERATORS  # fmt: skip


# -- absent values, NOT_IN and inverted ---------------------------------------------------------

ALL_SAMPLES = [
    ("IN", ["x"]),
    ("STR_CONTAINS", ["x"]),
    ("STR_STARTS_WITH", ["x"]),
    ("STR_ENDS_WITH", ["x"]),
    ("NUM_EQ", ["1"]),
    ("NUM_GT", ["1"]),
    ("NUM_GTE", ["1"]),
    ("NUM_LT", ["1"]),
    ("NUM_LTE", ["1"]),
    ("DATE_AFTER", ["2020-01-01T00:00:00Z"]),
    ("DATE_BEFORE", ["2020-01-01T00:00:00Z"]),
    ("SEMVER_EQ", ["1.0.0"]),
    ("SEMVER_GT", ["1.0.0"]),
    ("SEMVER_GTE", ["1.0.0"]),
    ("SEMVER_LT", ["1.0.0"]),
    ("SEMVER_LTE", ["1.0.0"]),
    ("REGEX", ["x"]),
    ("IN_CIDR", ["10.0.0.0/8"]),
]


@pytest.mark.parametrize(("operator", "values"), ALL_SAMPLES)
def test_absent_or_none_attribute_is_false_and_inverted_true(operator, values):
    assert holds(operator, values, absent=True) is False
    assert holds(operator, values, None) is False
    assert holds(operator, values, absent=True, inverted=True) is True


def test_not_in_on_absent_attribute_is_true_and_inverted_false():
    assert holds("NOT_IN", ["x"], absent=True) is True
    assert holds("NOT_IN", ["x"], None) is True
    assert holds("NOT_IN", ["x"], absent=True, inverted=True) is False


def test_in_and_not_in():
    assert holds("IN", ["s1", "s2"], "s2") is True
    assert holds("IN", ["s1", "s2"], "s3") is False
    assert holds("NOT_IN", ["s1", "s2"], "s3") is True
    assert holds("NOT_IN", ["s1", "s2"], "s1") is False
    assert holds("IN", ["s1"], "s1", inverted=True) is False
    assert holds("NOT_IN", ["s1"], "s1", inverted=True) is True


def test_empty_values():
    assert holds("IN", [], "x") is False
    assert holds("NOT_IN", [], "x") is True
    assert holds("STR_CONTAINS", [], "x") is False


def test_in_and_not_in_are_always_case_sensitive():
    """Unleash: "for backwards compatibility reasons, IN and NOT_IN are always case-sensitive"."""
    assert holds("IN", ["US"], "us", case_insensitive=True) is False
    assert holds("IN", ["US"], "US", case_insensitive=True) is True
    assert holds("NOT_IN", ["US"], "us", case_insensitive=True) is True


def test_in_compares_non_text_values_as_text():
    assert holds("IN", ["5"], 5) is True
    assert holds("IN", ["true"], True) is True
    assert holds("IN", ["false"], False) is True
    assert holds("IN", ["True"], True) is False
    assert holds("IN", ["1"], True) is False


def test_in_with_a_list_value_holds_when_any_item_is_in():
    assert holds("IN", ["staff"], ["users", "staff"]) is True
    assert holds("IN", ["staff"], ("users",)) is False
    assert holds("NOT_IN", ["staff"], ["users", "staff"]) is False


def test_context_fields_can_be_constrained():
    context = Context(user_id="7", anonymous_id="anon", environment="prod", attributes={"user_id": "other"})
    check = compile_constraint({"attribute": "user_id", "operator": "IN", "values": ["7"]})
    assert check(context) is True  # the context's own field, not the attribute of that name
    assert compile_constraint({"attribute": "anonymous_id", "operator": "IN", "values": ["anon"]})(context)
    assert compile_constraint({"attribute": "environment", "operator": "IN", "values": ["prod"]})(context)
    assert not compile_constraint({"attribute": "environment", "operator": "IN", "values": ["prod"]})(Context())


# -- strings ----------------------------------------------------------------------------------------


def test_string_operators():
    assert holds("STR_STARTS_WITH", ["some-string"], "some-string-is-cool") is True
    assert holds("STR_STARTS_WITH", ["some-string"], "some2-is-cool-string") is False
    assert holds("STR_STARTS_WITH", ["e1", "e2"], "e2 cool") is True
    assert holds("STR_ENDS_WITH", ["some-email.com"], "test@some-email.com") is True
    assert holds("STR_ENDS_WITH", ["some-email.com"], "test@some-EMAIL.com") is False
    assert holds("STR_CONTAINS", ["email"], "test@some-email.com") is True
    assert holds("STR_CONTAINS", ["email"], "test@another.com") is False
    assert holds("STR_CONTAINS", ["email"], "test@another.com", inverted=True) is True


def test_string_operators_case_insensitive():
    assert holds("STR_STARTS_WITH", ["TEST"], "TEsT@example.com", case_insensitive=True) is True
    assert holds("STR_ENDS_WITH", ["some-email.com"], "test@SOME-EMAIL.com", case_insensitive=True) is True
    assert holds("STR_CONTAINS", ["MiX"], "a mix b", case_insensitive=True) is True
    assert holds("STR_CONTAINS", ["MiX"], "a mix b") is False


def test_string_operators_on_non_text():
    assert holds("STR_STARTS_WITH", ["12"], 123) is True
    assert holds("STR_CONTAINS", ["ru"], True) is True


# -- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("NUM_EQ", "12", True),
        ("NUM_EQ", "12.0", True),
        ("NUM_EQ", 12, True),
        ("NUM_EQ", 12.0, True),
        ("NUM_EQ", "13", False),
        ("NUM_GT", "13", True),
        ("NUM_GT", "12", False),
        ("NUM_GTE", "12", True),
        ("NUM_GTE", "11", False),
        ("NUM_LT", "0", True),
        ("NUM_LT", "12", False),
        ("NUM_LTE", "12", True),
        ("NUM_LTE", "13", False),
        ("NUM_EQ", " 12 ", True),
        ("NUM_EQ", "1.2e1", True),
        ("NUM_GT", "-5", False),
    ],
)
def test_number_operators(operator, value, expected):
    assert holds(operator, ["12"], value) is expected


@pytest.mark.parametrize("value", ["abc", "", "1_2", "nan", "NaN", "inf", "-Infinity", "0x0c", "12abc", True, [12]])
def test_values_that_are_not_numbers_make_number_constraints_false(value):
    assert holds("NUM_EQ", ["12"], value) is False
    assert holds("NUM_LT", ["12"], value) is False
    assert holds("NUM_GT", ["12"], value) is False


def test_float_target():
    assert holds("NUM_EQ", ["12.0"], "12") is True
    assert holds("NUM_LT", ["0.5"], "0.25") is True


@pytest.mark.parametrize("target", ["abc", "1_0", "nan", "inf", "1e999", ""])
def test_invalid_number_target_is_refused(target):
    with pytest.raises(ConstraintError) as error:
        compile_constraint({"attribute": "a", "operator": "NUM_EQ", "values": [target]})
    assert error.value.field == "values"


def test_single_value_operator_needs_a_value():
    with pytest.raises(ConstraintError) as error:
        compile_constraint({"attribute": "a", "operator": "NUM_EQ", "values": []})
    assert error.value.field == "values"


# -- dates ------------------------------------------------------------------------------------------


def test_date_operators_are_exclusive():
    target = ["2022-01-29T13:00:00.000Z"]
    assert holds("DATE_AFTER", target, "2022-01-30T13:00:00.000Z") is True
    assert holds("DATE_AFTER", target, "2022-01-28T13:00:00.000Z") is False
    assert holds("DATE_AFTER", target, "2022-01-29T13:00:00.000Z") is False
    assert holds("DATE_BEFORE", target, "2022-01-28T13:00:00.000Z") is True
    assert holds("DATE_BEFORE", target, "2022-01-29T13:00:00.000Z") is False


def test_dates_respect_time_zones():
    after = {"attribute": "t", "operator": "DATE_AFTER", "values": ["2022-01-22T13:00:00.000+02:00"]}
    before = {"attribute": "t", "operator": "DATE_BEFORE", "values": ["2022-01-22T14:00:00.000+02:00"]}
    context = Context(attributes={"t": "2022-01-22T11:30:00.000Z"})
    assert compile_constraint(after)(context) and compile_constraint(before)(context)


def test_date_values_as_datetimes_and_epoch_seconds():
    target = ["2022-01-29T13:00:00Z"]
    assert holds("DATE_AFTER", target, datetime(2022, 1, 30, tzinfo=UTC)) is True
    assert holds("DATE_AFTER", target, datetime(2022, 1, 29, 14, tzinfo=timezone(timedelta(hours=2)))) is False
    assert holds("DATE_AFTER", target, datetime(2022, 1, 29, 13, 0, 1)) is True  # naive: UTC
    assert holds("DATE_AFTER", target, 1643461201) is True
    assert holds("DATE_AFTER", target, "not a date") is False


def test_parse_date():
    assert parse_date("2022-01-29T13:00:00.000Z") == datetime(2022, 1, 29, 13, tzinfo=UTC)
    assert parse_date("2022-01-29T13:00:00z") == datetime(2022, 1, 29, 13, tzinfo=UTC)
    assert parse_date("2022-01-29") == datetime(2022, 1, 29, tzinfo=UTC)
    assert parse_date(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert parse_date("29/01/2022") is None
    assert parse_date("") is None


def test_invalid_date_target_is_refused():
    with pytest.raises(ConstraintError):
        compile_constraint({"attribute": "a", "operator": "DATE_AFTER", "values": ["yesterday"]})


# -- semver -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "target", "value", "expected"),
    [
        ("SEMVER_EQ", "1.2.2", "1.2.2", True),
        ("SEMVER_EQ", "1.2.2", "1.2.0", False),
        ("SEMVER_GT", "1.2.2", "1.2.3", True),
        ("SEMVER_GT", "1.2.2", "1.2.2", False),
        ("SEMVER_GTE", "1.2.2", "1.2.2", True),
        ("SEMVER_GTE", "1.2.2", "1.2.1", False),
        ("SEMVER_LT", "1.2.2", "1.2.1", True),
        ("SEMVER_LT", "1.2.2", "1.2.3", False),
        ("SEMVER_LTE", "1.2.2", "1.2.2", True),
        ("SEMVER_LTE", "1.2.2", "1.2.3", False),
        ("SEMVER_GT", "2.0.0-alpha.1", "2.0.0-beta.1", True),
        ("SEMVER_GT", "2.0.0-alpha.1", "2.0.0", True),
        ("SEMVER_LT", "2.0.0-alpha.1", "1.9.1-beta.1", True),
        ("SEMVER_LT", "2.0.0-alpha.3", "2.0.0-alpha.4", False),
        ("SEMVER_GT", "2.0.0-alpha", "2.0.0-alpha.1", True),
        ("SEMVER_GT", "2.0.0-rc", "2.0.0-beta.1", False),
        ("SEMVER_EQ", "2.0.0", "v2.0.0", False),
        ("SEMVER_EQ", "2.0.0", "2.0.0\n", False),
        ("SEMVER_LT", "2.0.0", "not a semver", False),
        ("SEMVER_LT", "2.0.0", 1, False),
    ],
)
def test_semver_operators(operator, target, value, expected):
    assert holds(operator, [target], value) is expected


def test_non_strict_semver_target_is_refused():
    with pytest.raises(ConstraintError):
        compile_constraint({"attribute": "a", "operator": "SEMVER_EQ", "values": ["v2.0.0"]})


# -- regex and CIDR ---------------------------------------------------------------------------------


def test_regex_searches_with_re2():
    assert holds("REGEX", ["^user\\d{3}$"], "user123") is True
    assert holds("REGEX", ["^user\\d{3}$"], "user12") is False
    assert holds("REGEX", ["\\bcat\\b"], "a cat b") is True
    assert holds("REGEX", ["cat"], "concatenate") is True  # search, not match
    assert holds("REGEX", ["^[[:alpha:]]+$"], "AlphaBeta") is True
    assert holds("REGEX", ["^abc$"], "AbC") is False
    assert holds("REGEX", ["^abc$"], "AbC", case_insensitive=True) is True
    assert holds("REGEX", ["^abc$"], "abc", inverted=True) is False
    assert holds("REGEX", ["a", "z$"], "xyz") is True


@pytest.mark.parametrize("pattern", ["(regex", "^(?=a)b$", "^(a)\\1$"])
def test_regex_that_re2_refuses_is_refused(pattern):
    with pytest.raises(ConstraintError) as error:
        compile_constraint({"attribute": "a", "operator": "REGEX", "values": [pattern]})
    assert error.value.field == "values"


def test_in_cidr():
    assert holds("IN_CIDR", ["127.0.0.1"], "127.0.0.1", attribute="ip") is True
    assert holds("IN_CIDR", ["127.0.0.1"], "127.0.0.2", attribute="ip") is False
    assert holds("IN_CIDR", ["160.33.0.0/16"], "160.33.0.33", attribute="ip") is True
    assert holds("IN_CIDR", ["160.33.0.0/16"], "160.34.0.1", attribute="ip") is False
    assert holds("IN_CIDR", ["2001:db8::/32"], "2001:db8:0:1::42", attribute="ip") is True
    assert holds("IN_CIDR", ["2001:db8::/32"], "2001:db9::1", attribute="ip") is False
    assert holds("IN_CIDR", ["10.0.0.0/8"], "not an ip", attribute="ip") is False
    assert holds("IN_CIDR", ["10.0.0.0/8"], " 10.1.2.3 ", attribute="ip") is True


def test_in_cidr_matches_ipv4_mapped_addresses():
    """A dual-stack server reports IPv4 clients as ::ffff:a.b.c.d."""
    assert holds("IN_CIDR", ["10.0.0.0/8"], "::ffff:10.1.1.1", attribute="ip") is True
    assert holds("IN_CIDR", ["10.0.0.0/8"], "::ffff:11.1.1.1", attribute="ip") is False


def test_invalid_cidr_entry_is_ignored_as_unleash_does():
    check = compile_constraint({"attribute": "ip", "operator": "IN_CIDR", "values": ["192.168.1.0/24", "127.invalid"]})
    assert check(Context(attributes={"ip": "192.168.1.7"}))
    assert not check(Context(attributes={"ip": "127.0.0.1"}))


# -- refused definitions, and the lenient compile of stored ones ---------------------------------


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"operator": "IN", "values": []}, "attribute"),
        ({"attribute": "", "operator": "IN", "values": []}, "attribute"),
        ({"attribute": "a", "operator": "EQUALS", "values": []}, "operator"),
        ({"attribute": "a", "operator": "IN", "values": "x"}, "values"),
        ({"attribute": "a", "operator": "IN", "values": {"x": 1}}, "values"),
    ],
)
def test_refused_with_the_field_at_fault(spec, field):
    with pytest.raises(ConstraintError) as error:
        compile_constraint(spec)
    assert error.value.field == field


@pytest.mark.parametrize(
    "spec",
    [
        {"attribute": "a", "operator": "NOT_A_VALID_OPERATOR", "values": ["x"]},
        {"attribute": "a", "operator": "NOT_A_VALID_OPERATOR", "values": ["x"], "inverted": True},
        {"attribute": "a", "operator": "NUM_EQ", "values": ["abc"], "inverted": True},
        {"attribute": "a", "operator": "SEMVER_EQ", "values": ["v2.0.0"]},
        {"operator": "IN", "values": ["x"]},
    ],
)
def test_lenient_compile_makes_what_cannot_compile_false(spec):
    check = compile_constraint(spec, strict=False)
    assert check(Context(attributes={"a": "x"})) is False
    assert check(Context()) is False


def test_lenient_compile_ignores_invalid_cidr_and_regex_entries_like_unleash():
    cidr = compile_constraint(
        {"attribute": "ip", "operator": "IN_CIDR", "values": ["127.invalid", "192.168.1.0/24"]}, strict=False
    )
    assert cidr(Context(attributes={"ip": "192.168.1.42"})) is True
    assert cidr(Context(attributes={"ip": "127.0.0.1"})) is False
    regex = compile_constraint({"attribute": "a", "operator": "REGEX", "values": ["(bad", "^ok$"]}, strict=False)
    assert regex(Context(attributes={"a": "ok"})) is True
    only_bad = compile_constraint({"attribute": "a", "operator": "REGEX", "values": ["(bad"]}, strict=False)
    assert only_bad(Context(attributes={"a": "(bad"})) is False


def test_memoised_results_do_not_leak_between_values():
    check = compile_constraint({"attribute": "v", "operator": "SEMVER_GT", "values": ["1.0.0"]})
    for _ in range(3):
        for i in range(600):  # more than the memo holds
            assert check(Context(attributes={"v": f"1.0.{i}"})) is (i > 0)
            assert check(Context(attributes={"v": f"0.9.{i}"})) is False


def test_as_text():
    assert as_text(True) == "true"
    assert as_text(False) == "false"
    assert as_text(12) == "12"
    assert as_text("x") == "x"
