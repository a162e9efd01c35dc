"""Operator-entered regular expressions on user ids (RE2)."""

import pytest

from featureflags.engine.rules import RuleError, check_pattern, compile_rules


def test_no_rules_compile_to_none():
    assert compile_rules([]) is None
    assert compile_rules(()) is None


def test_search_not_match():
    matches = compile_rules(["01$"])
    assert matches("443301")
    assert matches("444401")
    assert not matches("444410")
    assert compile_rules(["44"])("1442")  # anywhere in the id


def test_returns_the_indexes_that_match():
    matches = compile_rules(["^a", "b", "z$"])
    assert sorted(matches("abz")) == [0, 1, 2]
    assert sorted(matches("xb")) == [1]
    assert not matches("q")


def test_unicode_ids():
    matches = compile_rules(["^é", "用户$"])
    assert matches("émile")
    assert matches("新用户")
    assert not matches("emile")


def test_linear_time_on_a_hostile_pattern():
    # Catastrophic backtracking in a backtracking engine; RE2 answers at once.
    matches = compile_rules(["^(a+)+$"])
    assert not matches("a" * 50_000 + "!")


@pytest.mark.parametrize("pattern", ["(?=a)b", "(a)\\1", "(unclosed", "a{2,1}"])
def test_patterns_re2_cannot_compile_are_refused(pattern):
    with pytest.raises(RuleError) as error:
        check_pattern(pattern, 2)
    assert error.value.index == 2
    assert "Rule 3" in str(error.value)
    with pytest.raises(RuleError):
        compile_rules(["ok", pattern])


@pytest.mark.parametrize("pattern", ["", None, 5])
def test_a_rule_is_a_non_empty_string(pattern):
    with pytest.raises(RuleError):
        check_pattern(pattern)


def test_valid_pattern_passes():
    check_pattern("^[0-9]{6}$")
