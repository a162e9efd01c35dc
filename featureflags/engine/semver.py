"""Strict SemVer 2.0.0 parsing and precedence."""

from __future__ import annotations

import re
from functools import lru_cache

_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


def parse_semver(text: object) -> tuple | None:
    """A sort key with SemVer precedence, or None when ``text`` is not strict SemVer."""
    if not isinstance(text, str):
        return None
    return _parse(text)


@lru_cache(maxsize=4096)  # app versions repeat across requests: parse each once
def _parse(text: str) -> tuple | None:
    match = _SEMVER.fullmatch(text)  # not match(): "$" would also accept a trailing newline
    if match is None:
        return None
    major, minor, patch, pre, _build = match.groups()
    if pre is None:
        # A release sorts after every pre-release of the same version.
        pre_key: tuple = (1,)
    else:
        pre_key = (0, *(_identifier_key(part) for part in pre.split(".")))
    return (int(major), int(minor), int(patch), pre_key)


def _identifier_key(part: str) -> tuple:
    # Numeric identifiers sort before alphanumeric ones, numerically.
    return (0, int(part), "") if part.isdigit() else (1, 0, part)
