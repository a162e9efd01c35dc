"""Each flag's decision for a bare user id, specialised to the flag's shape.

``is_enabled("new_ui", "42")`` is the commonest check. For a context that is
only a user id the contract reduces to a few set lookups and at most one hash,
so a snapshot can build a function of the id alone for each flag (decisions keeps
them: featureflags/id_checks.py).
Flags whose decision needs more than the id (a schedule, prerequisites,
constraints) get the general evaluator behind the same signature.
tests/engine/test_reference.py holds these functions to a plain reading of
the contract.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from typing import TYPE_CHECKING

import mmh3

from featureflags.engine.context import Context
from featureflags.engine.hashing import VARIANT_SEED

from .flag import CompiledFlag

if TYPE_CHECKING:
    from .snapshot import Snapshot

IdDecider = Callable[[str], bool]
IdVariant = Callable[[str], "str | None"]

murmur3_32 = mmh3.hash
# Stickiness settings under which a bare id is the hashed value; under the others it has none.
_ID_STICKY = frozenset(("default", "user_id"))

# Contexts of bare ids, shared: a Context is immutable and building one costs
# more than the rest of a check. Bounded by clearing when full.
_ID_CONTEXTS: dict[str, Context] = {}
_ID_CONTEXTS_MAX = 10_000


def context_of_id(user_id: str) -> Context:
    """The (shared) context of a bare user id."""
    context = _ID_CONTEXTS.get(user_id)
    if context is None:
        if len(_ID_CONTEXTS) >= _ID_CONTEXTS_MAX:
            _ID_CONTEXTS.clear()
        context = _ID_CONTEXTS[user_id] = Context(user_id)
    return context


def _off(user_id: str) -> bool:
    return False


def _on(user_id: str) -> bool:
    return True


def id_decider(flag: CompiledFlag, snapshot: Snapshot) -> IdDecider:
    """``user_id -> enabled`` for ``flag`` in ``snapshot``; ``user_id`` must be ASCII (as Context keeps it)."""
    if not flag.enabled:
        return _off
    if flag.environments is not None and snapshot.environment not in flag.environments:
        return _off  # a bare id carries no environment: the snapshot's applies
    if flag.has_schedule or flag.prerequisites or flag.constraints:
        return lambda user_id: snapshot._decide(flag, context_of_id(user_id), 0)[0]
    rollout = _rollout(flag)
    excluded, targeted, rules = flag.excluded, flag.targeted, flag.rules
    if excluded is None and targeted is None and rules is None:
        return rollout
    tests_for_on = tuple(test for test in (targeted, rules) if test is not None)

    def decide(user_id: str) -> bool:
        if excluded is not None and excluded(user_id):
            return False
        for test in tests_for_on:
            if test(user_id):
                return True
        return rollout(user_id)

    return decide


def _rollout(flag: CompiledFlag) -> IdDecider:
    percentage = flag.percentage
    if percentage >= 100:
        return _on
    if percentage <= 0 or flag.stickiness not in _ID_STICKY:
        return _off
    if flag.bucketing == "murmur3":
        prefix = flag.salt_prefix
        # "" is no sticky value: off, as the general evaluator decides
        return lambda user_id: user_id != "" and murmur3_32(prefix + user_id, 0, False) % 100 + 1 <= percentage
    in_rollout = flag.in_rollout
    return lambda user_id: user_id != "" and in_rollout(user_id)


def id_variant(flag: CompiledFlag, decide: IdDecider) -> IdVariant:
    """``user_id -> variant or None`` for ``flag``, given its :func:`id_decider`."""
    if not flag.variant_names:
        return lambda user_id: None
    if flag.stickiness not in _ID_STICKY:  # a bare id has no sticky value: "" is hashed
        variant_of = flag.variant_of
        return lambda user_id: variant_of(user_id, "") if decide(user_id) else None
    if flag.bucketing != "murmur3" or flag.pinned:
        variant_of = flag.variant_of
        return lambda user_id: variant_of(user_id, user_id) if decide(user_id) else None
    names, bounds, total, prefix = flag.variant_names, flag.variant_bounds, flag.total_weight, flag.salt_prefix
    always = decide is _on

    def choose(user_id: str) -> str | None:  # CompiledFlag.variant_of inlined for the common case
        if always or decide(user_id):
            return names[bisect_left(bounds, murmur3_32(prefix + user_id, VARIANT_SEED, False) % total + 1)]
        return None

    return choose
