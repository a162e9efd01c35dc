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


# -- the literal prefilter (engine/rule_prefilter.py) ------------------------------------------

from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from featureflags.engine.rule_prefilter import build_prefilter, necessary_affixes  # noqa: E402

PIECES = ["a", "b", "ab", "-", "@x\\.com", "[0-9]", "[0-9]+", ".", ".*", "b?", "a{2}", "(a|b)", "\\d", "é", "\\x41"]
pattern_strategy = st.builds(
    lambda start, body, end, flags: flags + start + "".join(body) + end,
    st.sampled_from(["", "^", "\\A"]),
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=4),
    st.sampled_from(["", "$"]),
    st.sampled_from(["", "", "", "(?i)", "(?m)", "(?s)"]),
)
id_strategy = st.text(alphabet="abAB-@x.com0123456789éZ\n", max_size=12)


def re2_alone(patterns, user_id):
    import re2

    return tuple(i for i, p in enumerate(patterns) if re2.search(p, user_id) is not None)


@settings(max_examples=1000, deadline=None)
@given(patterns=st.lists(pattern_strategy, min_size=1, max_size=3), ids=st.lists(id_strategy, min_size=1, max_size=8))
@example(patterns=["(?i)^ab"], ids=["AB", "ab", "xab"])  # case folding: no literal reading
@example(patterns=["(?m)^b", "(?m)a$"], ids=["a\nb", "a\nx"])  # ^ and $ at line breaks
@example(patterns=["^ab$", "^a.*b$"], ids=["ab", "a", "b", "axb"])  # prefix and suffix sharing letters
def test_the_prefilter_never_changes_which_rules_match(patterns, ids):
    matches = compile_rules(patterns)
    for user_id in ids:
        assert tuple(sorted(matches(user_id))) == re2_alone(patterns, user_id), (patterns, user_id)


def test_affixes_of_anchored_literals_and_none_for_the_rest():
    assert necessary_affixes("^admin-") == ("admin-", "")
    assert necessary_affixes("@example\\.com$") == ("", "@example.com")
    assert necessary_affixes("^qa[0-9]+$") == ("qa", "")
    assert necessary_affixes("^a.*z$") == ("a", "z")
    assert necessary_affixes("^ab$") == ("ab", "")  # the prefix took every literal: none left for the suffix
    for pattern in ("abc", "(?i)^abc", "^a|^b", "^\\x{41}", "^é", "^[ab]c", "^a[[:alpha:]]", "^a[b--c]"):
        assert necessary_affixes(pattern) is None, pattern


def test_ids_no_rule_can_match_skip_re2():
    may_match = build_prefilter(["^admin-", "@example\\.com$", "^a.*z$"])
    assert may_match("admin-1") and may_match("bob@example.com") and may_match("az")
    assert not may_match("12345") and not may_match("a")
    assert build_prefilter(["^admin-", "anywhere"]) is None  # one unanchored rule: RE2 decides every id
