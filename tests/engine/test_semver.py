"""Strict SemVer 2.0.0 parsing and precedence."""

import itertools

import pytest

from featureflags.engine.semver import parse_semver

# SemVer 2.0.0, section 11: each is lower than the next.
PRECEDENCE = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1",
    "1.1.0",
    "1.10.0",
    "2.0.0-0",
    "2.0.0",
    "10.0.0",
]


def test_precedence_order():
    keys = [parse_semver(v) for v in PRECEDENCE]
    assert all(k is not None for k in keys)
    for lower, higher in itertools.pairwise(keys):
        assert lower < higher


def test_build_metadata_is_ignored():
    assert parse_semver("1.2.3+build.7") == parse_semver("1.2.3")
    assert parse_semver("1.2.3-rc.1+x") == parse_semver("1.2.3-rc.1")


def test_numeric_identifiers_compare_numerically_and_before_alphanumeric():
    assert parse_semver("1.0.0-2") < parse_semver("1.0.0-10")
    assert parse_semver("1.0.0-10") < parse_semver("1.0.0-a")


@pytest.mark.parametrize(
    "text",
    [
        "v2.0.0",
        "2.0",
        "2",
        "01.0.0",
        "1.02.0",
        "1.0.0-01",
        "1.0.0-",
        "1.0.0+",
        "1.0.0-alpha..1",
        " 1.0.0",
        "1.0.0 ",
        "1.0.0\n",  # "$" in a Python regex accepts a trailing newline: fullmatch does not
        "",
        "not a semver",
    ],
)
def test_not_strict_semver(text):
    assert parse_semver(text) is None


@pytest.mark.parametrize("value", [None, 1, 1.0, b"1.0.0", ["1.0.0"]])
def test_non_text_is_not_semver(value):
    assert parse_semver(value) is None
