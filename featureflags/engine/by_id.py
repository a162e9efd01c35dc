"""Each flag's decision for a bare user id, specialised to the flag's shape.

``is_enabled("new_ui", "42")`` is the commonest check. For a context that is only a
user id (in the deployment's environment) every constraint on anything but the id
has a fixed answer, so a targeting reduces to a few set lookups and at most one hash
per rule, and a snapshot can build a function of the id alone for each flag
(decisions keeps them: featureflags/id_checks.py). Flags whose decision needs more
(a schedule, prerequisites) get the general evaluator, which the snapshot passes in
as ``decide``: this module knows nothing of snapshots.
tests/engine/test_evaluator_v2.py (hypothesis) and test_migration.py hold these functions to the general evaluator.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping

import mmh3

from .constraints import compile_conjunction, compile_constraint
from .context import Context
from .hashing import VARIANT_SEED, crc32_bucket, legacy_crc32_bucket
from .targeting import CompiledRule, CompiledSegment, CompiledTargeting, CompiledVariants, RegexRun

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


def id_decider(
    targeting: CompiledTargeting | None,
    needs_context: bool,
    decide: IdDecider,
    segments: Mapping[str, CompiledSegment],
    environment: str,
) -> IdDecider:
    """``user_id -> enabled`` for a flag's ``targeting`` in ``environment``; ``decide`` is the general
    evaluator for the same flag, used when ``needs_context`` (prerequisites) or a schedule applies.
    ``user_id`` must be ASCII (as Context keeps it)."""
    if targeting is None or not targeting.enabled:
        return _off
    if needs_context or targeting.has_schedule:
        return decide
    if any(segments[k].reads_environment for k in targeting.segment_keys if k in segments):
        return decide
    tests: list[IdDecider] = []
    always = not targeting.steps  # no rules: on for everyone not excluded
    for step in targeting.steps:
        if isinstance(step, RegexRun):
            tests.append(_regex_test(step))
            continue
        test = _rule_test(step, segments, environment)
        if test is _on:
            always = True
            break
        if test is not _off:
            tests.append(test)
    excluded, targeted = targeting.excluded, targeting.targeted
    if always:
        tests = [_on]
    if targeted is not None:
        tests.insert(0, targeted)
    if excluded is None:
        if not tests:
            return _off
        if len(tests) == 1:
            return tests[0]
    tests_for_on = tuple(tests)

    def decide_id(user_id: str) -> bool:
        if excluded is not None and excluded(user_id):
            return False
        for test in tests_for_on:  # noqa: SIM110 - a loop, not any(): no generator per check
            if test(user_id):
                return True
        return False

    return decide_id


def _regex_test(run: RegexRun) -> IdDecider:
    first = run.first
    return lambda user_id: first(user_id) is not None


def _rule_test(rule: CompiledRule, segments: Mapping[str, CompiledSegment], environment: str) -> IdDecider:
    """``user_id -> the rule holds`` for a bare id: ``_on``/``_off`` when that is fixed."""
    bare = Context(None, environment=environment)
    on_id = []
    for spec in rule.constraint_specs:
        if spec.get("attribute") == "user_id":
            on_id.append(spec)
        elif not compile_constraint(spec, strict=False)(bare):  # an absent attribute, or the environment
            return _off
    parts: list[IdDecider] = []
    for key in rule.segment_keys:
        segment = segments.get(key)
        if segment is None:
            return _off
        parts.append(_segment_test(segment))
    if on_id:
        check = compile_conjunction(on_id, strict=False)
        assert check is not None
        parts.append(lambda user_id: check(context_of_id(user_id)))
    bucket = _bucket_test(rule)
    if bucket is _off:
        return _off
    if bucket is not _on:
        parts.append(bucket)
    if not parts:
        return _on
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        first, second = parts
        return lambda user_id: first(user_id) and second(user_id)
    all_parts = tuple(parts)

    def holds(user_id: str) -> bool:
        for part in all_parts:  # noqa: SIM110 - a loop, not all(): no generator per check
            if not part(user_id):
                return False
        return True

    return holds


def _segment_test(segment: CompiledSegment) -> IdDecider:
    included = segment.included
    if segment.constraints is None:
        return _off if included is None else included
    matches = segment.matches
    return lambda user_id: matches(context_of_id(user_id))


def _bucket_test(rule: CompiledRule) -> IdDecider:
    if rule.in_bucket is None:
        return _on
    whole, fine, prefix = rule.whole, rule.fine, rule.salt_prefix
    if (whole == 0 and fine == 0) or rule.stickiness not in _ID_STICKY:
        return _off  # a bare id has no other value to hash: only 100 % holds
    if rule.bucketing == "crc32":
        return lambda user_id: user_id != "" and crc32_bucket(user_id) < whole
    if rule.bucketing == "crc32_inv":
        return lambda user_id: user_id != "" and legacy_crc32_bucket(user_id) >= whole
    if fine == 0:  # "" is no sticky value: off, as the general evaluator decides
        return lambda user_id: user_id != "" and murmur3_32(prefix + user_id, 0, False) % 100 + 1 <= whole
    next_whole = whole + 1

    def in_fine(user_id: str) -> bool:
        if not user_id:
            return False
        h = murmur3_32(prefix + user_id, 0, False)
        coarse = h % 100 + 1
        return coarse <= whole or (coarse == next_whole and (h // 100) % 1000 < fine)

    return in_fine


def id_variant(
    targeting: CompiledTargeting | None,
    variants: CompiledVariants | None,
    decide: IdDecider,
    general: IdVariant,
    needs_context: bool,
) -> IdVariant:
    """``user_id -> variant or None`` for a flag, given its :func:`id_decider` and the general evaluator."""
    if targeting is None or not targeting.enabled:
        return lambda user_id: None
    rule_variants = any(rule.variants is not None for rule in targeting.rules)
    if variants is None and not rule_variants:
        return lambda user_id: None
    if (
        needs_context
        or rule_variants
        or targeting.pinned
        or variants is None
        or variants.bucketing != "murmur3"
        or variants.stickiness not in _ID_STICKY
    ):
        return general
    names, bounds, total, prefix = variants.names, variants.bounds, variants.total, variants.salt_prefix
    always = decide is _on

    def choose(user_id: str) -> str | None:  # CompiledVariants.index_for inlined for the common case
        if always or decide(user_id):
            return names[bisect_left(bounds, murmur3_32(prefix + user_id, VARIANT_SEED, False) % total + 1)]
        return None

    return choose
