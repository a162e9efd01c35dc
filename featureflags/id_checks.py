"""The fast path of ``is_enabled(key, "42")``: per flag, a ready-made check of a bare user id.

decisions fills these tables on first use, from the snapshot (engine/by_id.py)
and from usage (the flag's count cell). What an entry is built from can change:
the snapshot, the overrides in force, the usage settings, the flags guardrails
watch. Each of those changes calls :func:`forget`, and :func:`keep` drops an
entry whose building overlapped one, so no entry outlives what it was built from.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count

# key -> (user id -> enabled, the flag's usage count cell)
checks: dict[str, tuple[Callable[[str], bool], list[int]]] = {}
# key -> (user id -> variant or None, the flag's usage count cell)
variants: dict[str, tuple[Callable[[str], str | None], list[int]]] = {}

_generations = count()
generation = next(_generations)


def forget() -> None:
    """Drop every entry: call after changing anything an entry is built from."""
    global generation
    generation = next(_generations)
    checks.clear()
    variants.clear()


def keep(table: dict, key: str, entry: tuple, built_at: int) -> None:
    """Store ``entry``, unless :func:`forget` ran since ``built_at`` (the generation read before building)."""
    table[key] = entry
    if generation != built_at:  # checked after storing: a forget() racing with us is always seen
        table.pop(key, None)
