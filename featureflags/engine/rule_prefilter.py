"""A cheap test that rules out the regex rules an id cannot match, before RE2 runs.

Most rules on user ids are anchored literals: ``^admin-``, ``@example\\.com$``,
``^qa[0-9]+$``. A match of ``^admin-`` must start with ``admin-``, so an id that
starts with none of the rules' prefixes and ends with none of their suffixes
matches no rule, and ``str.startswith`` answers that for a fraction of what a call
into RE2 costs (the same idea as RE2's own FilteredRE2). When any rule has no such
literal, or uses inline flags, there is no prefilter and RE2 decides every id.

Python's own regex parser reads the patterns; a pattern it cannot read (RE2-only
syntax) simply gets no prefilter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

try:
    from re import _constants as _sre  # Python 3.11+
    from re import _parser
except ImportError:  # pragma: no cover - other Pythons: no prefilter
    _parser = None

_STARTS = ("AT_BEGINNING", "AT_BEGINNING_STRING")
# Python's parser warns (FutureWarning) on these inside a set; such patterns get no prefilter.
_WARNED = ("[[", "--", "&&", "~~", "||")
_ENDS = ("AT_END", "AT_END_STRING")


def necessary_affixes(pattern: str) -> tuple[str, str] | None:
    """``(prefix, suffix)`` that every match of ``pattern`` spans the id with, or None if unknown."""
    if _parser is None or any(mark in pattern for mark in _WARNED):
        return None
    try:
        parsed = _parser.parse(pattern)
    except Exception:
        return None
    if parsed.state.flags & ~re.UNICODE:  # (?i), (?m), (?s), (?x)...: no literal reading
        return None
    items = list(parsed)
    prefix = suffix = ""
    first = 0  # the items the suffix may use start here: none the prefix took
    if items and items[0][0] is _sre.AT and str(items[0][1]) in _STARTS:
        first = 1
        for op, value in items[1:]:
            if op is not _sre.LITERAL:
                break
            prefix += chr(value)
            first += 1
    if len(items) > first and items[-1][0] is _sre.AT and str(items[-1][1]) in _ENDS:
        for op, value in reversed(items[first:-1]):
            if op is not _sre.LITERAL:
                break
            suffix = chr(value) + suffix
    if not (prefix or suffix) or not (prefix + suffix).isascii():
        return None
    return prefix, suffix


def build_prefilter(patterns: Sequence[str]) -> Callable[[str], bool] | None:
    """``id -> False`` only when the (ASCII) id matches none of ``patterns``; None if that cannot be known."""
    affixes = [necessary_affixes(pattern) for pattern in patterns]
    if not affixes or any(a is None for a in affixes):
        return None
    prefixes = tuple(prefix for prefix, suffix in affixes if prefix and not suffix)
    suffixes = tuple(suffix for prefix, suffix in affixes if suffix and not prefix)
    both = tuple((prefix, suffix) for prefix, suffix in affixes if prefix and suffix)

    if not both:  # the usual shapes, without a loop
        if not suffixes:
            return lambda user_id: user_id.startswith(prefixes)
        if not prefixes:
            return lambda user_id: user_id.endswith(suffixes)
        return lambda user_id: user_id.startswith(prefixes) or user_id.endswith(suffixes)

    def may_match(user_id: str) -> bool:
        if prefixes and user_id.startswith(prefixes):
            return True
        if suffixes and user_id.endswith(suffixes):
            return True
        # Both ends fixed: the id must be long enough to hold them without overlap.
        for prefix, suffix in both:
            if len(user_id) >= len(prefix) + len(suffix) and user_id.startswith(prefix) and user_id.endswith(suffix):
                return True
        return False

    return may_match
