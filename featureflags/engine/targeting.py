"""One environment's targeting of a flag, its rules, variants and the segments they use, compiled."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from itertools import accumulate
from types import MappingProxyType
from typing import Any

import mmh3

from .constraints import as_text, compile_conjunction, compile_constraint
from .context import Context
from .definition import DefinitionError, InvalidDefinition, to_timestamp
from .hashing import VARIANT_SEED, crc32_bucket, hashable, legacy_crc32_bucket, signed_crc32, split_percentage
from .hashing import unsigned_crc32 as _unsigned_crc32
from .idset import EMPTY_ID_SET, IdSet, build_id_set
from .reasons import Reason
from .rules import RuleError, check_pattern, compile_rules

murmur3_32 = mmh3.hash
StickyReader = Callable[[Context], "str | None"]
Segments = Mapping[str, "CompiledSegment"]


_READERS: dict[str, StickyReader] = {}


def sticky_reader(stickiness: str) -> StickyReader:
    """``context -> the value hashed`` (None when there is none) for a stickiness setting (shared)."""
    reader = _READERS.get(stickiness)
    if reader is None:
        if len(_READERS) >= 1024:  # attribute names come from definitions: bounded all the same
            _READERS.clear()
        reader = _READERS[stickiness] = _reader(stickiness)
    return reader


def _reader(stickiness: str) -> StickyReader:
    if stickiness == "default":
        return lambda context: context.user_id or context.anonymous_id or None
    if stickiness == "user_id":
        return lambda context: context.user_id or None
    if stickiness == "anonymous_id":
        return lambda context: context.anonymous_id or None

    def attribute(context: Context) -> str | None:
        raw = context.attributes.get(stickiness)
        return None if raw is None else hashable(as_text(raw)) or None

    return attribute


class CompiledVariants:
    """Weighted variants and their values, chosen by Unleash's algorithm (or hanoi's, under crc32)."""

    __slots__ = ("bounds", "bucketing", "names", "salt_prefix", "stickiness", "sticky", "total", "values")

    def __init__(
        self, variants: Sequence[Mapping[str, Any]], salt_prefix: str, stickiness: str, bucketing: str
    ) -> None:
        self.names: tuple[str, ...] = tuple(v["name"] for v in variants)
        # A boolean flag's variant without a value serves ``enabled``, that is True.
        self.values: tuple[Any, ...] = tuple(True if v.get("value") is None else v["value"] for v in variants)
        weights = [v.get("weight", 1) for v in variants]
        self.bounds = tuple(accumulate(weights))
        self.total = sum(weights)
        self.salt_prefix = salt_prefix
        self.stickiness = stickiness
        self.sticky = sticky_reader(stickiness)
        self.bucketing = bucketing

    def index_for(self, context: Context | None) -> int:
        """The position of the variant served to ``context`` (no sticky value: ``""`` is hashed)."""
        value = (self.sticky(context) if context is not None else None) or ""
        if self.bucketing == "crc32":
            target = signed_crc32(value) % self.total + 1
        elif self.bucketing == "crc32_inv":
            target = _unsigned_crc32(value) % self.total + 1
        else:
            target = murmur3_32(self.salt_prefix + value, VARIANT_SEED, False) % self.total + 1
        return bisect_left(self.bounds, target)  # the first running total >= target


def compile_variants(
    variants: Sequence[Mapping[str, Any]] | None, salt_prefix: str, stickiness: str, bucketing: str, key: str
) -> CompiledVariants | None:
    if not variants:
        return None
    compiled = CompiledVariants(variants, salt_prefix, stickiness, bucketing)
    if compiled.total <= 0:
        raise InvalidDefinition([DefinitionError(key, "variants", "The weights must add up to more than 0.")])
    return compiled


class FlagBasics:
    """What a targeting needs of its flag."""

    __slots__ = ("bucketing", "key", "salt_prefix", "stickiness", "value_type", "variants")

    def __init__(self, definition: Mapping[str, Any]) -> None:
        get = definition.get
        self.key: str = definition["key"]
        self.salt_prefix = hashable((get("salt") or self.key) + ":")
        self.bucketing: str = get("bucketing") or "murmur3"
        self.value_type: str = get("value_type") or "boolean"
        self.stickiness: str = get("stickiness") or "default"
        self.variants = compile_variants(get("variants"), self.salt_prefix, self.stickiness, self.bucketing, self.key)


class CompiledSegment:
    """A named audience: its included ids, else (not excluded) all its constraints."""

    __slots__ = (
        "constraint_specs",
        "constraints",
        "definition",
        "excluded",
        "excluded_count",
        "included",
        "included_count",
        "key",
        "reads_environment",
    )

    def __init__(self, definition: Mapping[str, Any], strict: bool = False) -> None:
        self.definition = definition
        self.key: str = definition["key"]
        included, excluded = _id_set(definition.get("included")), _id_set(definition.get("excluded"))
        self.included_count, self.excluded_count = len(included), len(excluded)
        self.included = included.contains if self.included_count else None
        self.excluded = excluded.contains if self.excluded_count else None
        self.constraint_specs = tuple(definition.get("constraints") or ())
        self.constraints = compile_conjunction(self.constraint_specs, strict)
        self.reads_environment = any(c.get("attribute") == "environment" for c in self.constraint_specs)

    def matches(self, context: Context) -> bool:
        user_id = context.user_id
        if user_id is not None:
            if self.included is not None and self.included(user_id):
                return True
            if self.excluded is not None and self.excluded(user_id):
                return False
        return self.constraints is not None and self.constraints(context)


def compile_segment(definition: Mapping[str, Any] | CompiledSegment, strict: bool = False) -> CompiledSegment:
    return definition if isinstance(definition, CompiledSegment) else CompiledSegment(definition, strict)


class CompiledRule:
    """A rule: its segments match, its constraints hold and the context is inside its percentage."""

    __slots__ = (
        "_compiled",
        "_in_bucket",
        "bucketing",
        "constraint_specs",
        "constraints",
        "decided",
        "fine",
        "holds",
        "id",
        "name",
        "percentage",
        "regex_patterns",
        "salt_prefix",
        "segment_keys",
        "stickiness",
        "sticky",
        "variants",
        "whole",
    )

    def __init__(self, rule: Mapping[str, Any], basics: FlagBasics, strict: bool) -> None:
        get = rule.get
        rule_id = get("id")
        self.id: str = rule_id if type(rule_id) is str else str(rule_id)
        self.name: str = get("name") or ""
        segments, constraints = get("segments"), get("constraints")
        self.segment_keys: tuple[str, ...] = tuple(segments) if segments else ()
        self.constraint_specs: tuple[Mapping[str, Any], ...] = tuple(constraints) if constraints else ()
        # Stored (lenient) definitions compile their constraints on first use: a process loads
        # every flag of every environment at start, and most rules are never asked about.
        self.constraints = compile_conjunction(self.constraint_specs, strict) if strict else None
        percentage = get("percentage")
        self.percentage: float = 100 if percentage is None else percentage
        self.whole, self.fine = (percentage, 0) if type(percentage) is int else split_percentage(self.percentage)
        self.stickiness: str = get("stickiness") or "default"
        self.sticky = sticky_reader(self.stickiness)
        salt = get("salt")
        self.salt_prefix = hashable(salt + ":") if salt else basics.salt_prefix
        self.bucketing = basics.bucketing
        variants = get("variants")
        self.variants = (
            compile_variants(variants, self.salt_prefix, self.stickiness, basics.bucketing, basics.key)
            if variants
            else None
        )
        self._compiled = False
        # Only a rule of one constraint at 100 % can be a plain regex rule: most rules stop here.
        self.regex_patterns = _regex_only(self) if len(self.constraint_specs) == 1 and self.whole >= 100 else None
        # The evaluator's result when this rule decides, built once.
        self.decided = (True, Reason.RULE, self)
        if strict:
            self.compile()
        else:
            self.holds = self._first_holds

    def _first_holds(self, context: Context, segments: Segments) -> bool:
        """``holds`` before the rule is compiled: compile it, then answer."""
        self.compile()
        return self.holds(context, segments)

    def compile(self) -> None:
        """Build the tests (once; threads racing here build equal functions)."""
        if not self._compiled:
            if self.constraints is None:
                self.constraints = compile_conjunction(self.constraint_specs, strict=False)
            self._in_bucket = _bucket_test(self, self.bucketing)
            self.holds = _holds(self.segment_keys, self.constraints, self._in_bucket)
            self._compiled = True

    @property
    def in_bucket(self) -> Callable[[Context], bool] | None:
        """``context -> inside the percentage``; None when every context is (100 %)."""
        self.compile()
        return self._in_bucket


def _bucket_test(rule: CompiledRule, bucketing: str) -> Callable[[Context], bool] | None:
    """``context -> in the percentage``; None when every context is in (100 %, with or without a value)."""
    whole, fine, sticky, prefix = rule.whole, rule.fine, rule.sticky, rule.salt_prefix
    if whole >= 100:
        return None
    if whole == 0 and fine == 0:
        return _never
    if bucketing == "crc32":
        return lambda context: (value := sticky(context)) is not None and crc32_bucket(value) < whole
    if bucketing == "crc32_inv":  # hanoi 0.0.4's inverted test, kept for migrated cohorts
        return lambda context: (value := sticky(context)) is not None and legacy_crc32_bucket(value) >= whole
    next_whole = whole + 1
    if rule.stickiness == "default":

        def in_default(context: Context) -> bool:  # sticky_reader and hashing.murmur_in inlined
            value = context.user_id or context.anonymous_id
            if not value:
                return False
            h = murmur3_32(prefix + value, 0, False)
            coarse = h % 100 + 1
            return coarse <= whole or (coarse == next_whole and (h // 100) % 1000 < fine)

        return in_default

    def in_bucket(context: Context) -> bool:
        value = sticky(context)
        if value is None:
            return False
        h = murmur3_32(prefix + value, 0, False)
        coarse = h % 100 + 1
        return coarse <= whole or (coarse == next_whole and (h // 100) % 1000 < fine)

    return in_bucket


def _never(context: Context) -> bool:
    return False


def _holds(
    segment_keys: tuple[str, ...],
    constraints: Callable[[Context], bool] | None,
    in_bucket: Callable[[Context], bool] | None,
) -> Callable[[Context, Segments], bool]:
    if not segment_keys:
        if constraints is None:
            if in_bucket is None:
                return lambda context, segments: True
            return lambda context, segments: in_bucket(context)
        if in_bucket is None:
            return lambda context, segments: constraints(context)
        return lambda context, segments: constraints(context) and in_bucket(context)

    if len(segment_keys) == 1:
        return _holds_one_segment(segment_keys[0], constraints, in_bucket)

    def holds(context: Context, segments: Segments) -> bool:
        for key in segment_keys:
            segment = segments.get(key)
            if segment is None or not segment.matches(context):  # a missing segment matches nobody
                return False
        if constraints is not None and not constraints(context):
            return False
        return in_bucket is None or in_bucket(context)

    return holds


def _holds_one_segment(
    key: str, constraints: Callable[[Context], bool] | None, in_bucket: Callable[[Context], bool] | None
) -> Callable[[Context, Segments], bool]:
    def holds(context: Context, segments: Segments) -> bool:  # CompiledSegment.matches inlined
        segment = segments.get(key)
        if segment is None:  # a missing segment matches nobody
            return False
        user_id = context.user_id
        included = segment.included
        if user_id is None or included is None or not included(user_id):
            excluded = segment.excluded
            if user_id is not None and excluded is not None and excluded(user_id):
                return False
            segment_constraints = segment.constraints
            if segment_constraints is None or not segment_constraints(context):
                return False
        if constraints is not None and not constraints(context):
            return False
        return in_bucket is None or in_bucket(context)

    return holds


def _regex_only(rule: CompiledRule) -> tuple[str, ...] | None:
    """The patterns of a rule that is only ``user_id REGEX [...]`` at 100 %, else None."""
    if rule.segment_keys or rule.whole < 100 or len(rule.constraint_specs) != 1:
        return None
    spec = rule.constraint_specs[0]
    if spec.get("attribute") != "user_id" or spec.get("operator") != "REGEX" or spec.get("inverted"):
        return None
    prefix = "(?i)" if spec.get("case_insensitive") else ""
    values = spec.get("values") or ()
    if not values or not all(isinstance(v, str) and v for v in values):
        return None
    return tuple(prefix + v for v in values)


class RegexRun:
    """Consecutive rules that are only regexes on the user id: one RE2 set for all of them,
    built on first use. A pattern RE2 refuses (stored before validation knew better) makes the
    run test its rules one by one, as constraints, which leave invalid entries out."""

    __slots__ = ("_match", "owners", "patterns", "rules")

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        patterns, owners = [], []
        for position, rule in enumerate(rules):
            assert rule.regex_patterns is not None
            patterns.extend(rule.regex_patterns)
            owners.extend([position] * len(rule.regex_patterns))
        self.rules = tuple(rules)
        self.owners = tuple(owners)
        self.patterns = tuple(patterns)
        self._match: Callable[[str], tuple[int, ...] | None] | None = None

    def first(self, user_id: str) -> CompiledRule | None:
        match = self._match
        if match is None:
            match = self._match = self._build()
        matched = match(user_id)
        if matched is None:  # no set: each rule alone
            return self._one_by_one(user_id)
        if not matched:
            return None
        return self.rules[min(self.owners[i] for i in matched)]

    def _build(self) -> Callable[[str], tuple[int, ...] | None]:
        try:
            for pattern in self.patterns:
                check_pattern(pattern)
            match = compile_rules(self.patterns)
        except (RuleError, Exception):  # an invalid pattern, or RE2 out of memory for the set
            return lambda user_id: None
        assert match is not None
        return match

    def _one_by_one(self, user_id: str) -> CompiledRule | None:
        context = Context(user_id)
        for rule in self.rules:
            if rule.holds(context, {}):
                return rule
        return None


_NO_KEYS: frozenset[str] = frozenset()
_EMPTY: Mapping[str, Any] = MappingProxyType({})  # shared by the many targetings without pins


class CompiledTargeting:
    """A flag in one environment."""

    __slots__ = (
        "enabled",
        "end_at",
        "excluded",
        "excluded_count",
        "has_runs",
        "has_schedule",
        "pinned",
        "reads_environment",
        "rules",
        "segment_keys",
        "start_at",
        "steps",
        "targeted",
        "user_count",
        "value_by_name",
    )

    def __init__(self, targeting: Mapping[str, Any], basics: FlagBasics, strict: bool) -> None:
        get = targeting.get
        self.enabled: bool = get("enabled") is True
        start_at, end_at = get("start_at"), get("end_at")
        self.start_at = None if start_at is None else to_timestamp(start_at)
        self.end_at = None if end_at is None else to_timestamp(end_at)
        self.has_schedule = self.start_at is not None or self.end_at is not None
        excluded, users = _id_set(get("excluded_users")), _id_set(get("users"))
        self.excluded_count, self.user_count = len(excluded), len(users)
        # None rather than an empty set: the hot path then skips the call.
        self.excluded = excluded.contains if self.excluded_count else None
        self.targeted = users.contains if self.user_count else None
        pinned = get("pinned_variants")
        self.pinned: Mapping[str, str] = {str(k): v for k, v in pinned.items()} if pinned else _EMPTY
        raw_rules = get("rules")
        self.rules: tuple[CompiledRule, ...] = (
            tuple([CompiledRule(rule, basics, strict) for rule in raw_rules]) if raw_rules else ()
        )
        self.segment_keys = _NO_KEYS
        self.reads_environment = False
        has_regex = False
        for rule in self.rules:
            if rule.regex_patterns is not None:
                has_regex = True
            if rule.segment_keys:
                self.segment_keys = self.segment_keys.union(rule.segment_keys)
            for spec in rule.constraint_specs:
                if spec.get("attribute") == "environment":
                    self.reads_environment = True
        self.has_runs = has_regex
        self.steps = _steps(self.rules) if has_regex else self.rules
        # The values of pinned variants, by name: the flag's variants first, then each rule's.
        self.value_by_name: Mapping[str, Any] = _EMPTY
        if self.pinned:
            values: dict[str, Any] = {}
            for variants in [basics.variants, *(rule.variants for rule in self.rules)]:
                if variants is not None:
                    for name, value in zip(variants.names, variants.values):
                        values.setdefault(name, value)
            self.value_by_name = values

    def in_window(self, now: float) -> bool:
        if self.start_at is not None and now < self.start_at:
            return False
        return self.end_at is None or now < self.end_at

    def first_rule(self, context: Context, segments: Segments) -> CompiledRule | None:
        """The first rule that holds for ``context``, or None."""
        if not self.has_runs:
            for rule in self.rules:
                if rule.holds(context, segments):
                    return rule
            return None
        for step in self.steps:
            if step.__class__ is RegexRun:
                user_id = context.user_id
                if user_id is not None:
                    rule = step.first(user_id)  # type: ignore[union-attr]
                    if rule is not None:
                        return rule
            elif step.holds(context, segments):  # type: ignore[union-attr]
                return step  # type: ignore[return-value]
        return None


def _steps(rules: tuple[CompiledRule, ...]) -> tuple[CompiledRule | RegexRun, ...]:
    steps: list[CompiledRule | RegexRun] = []
    run: list[CompiledRule] = []
    for rule in (*rules, None):
        if rule is not None and rule.regex_patterns is not None:
            run.append(rule)
            continue
        if run:
            steps.append(_regex_run(run))
            run = []
        if rule is not None:
            steps.append(rule)
    return tuple(steps)


def _regex_run(rules: list[CompiledRule]) -> RegexRun:
    run = RegexRun(rules)
    if all(rule._compiled for rule in rules):  # a strict (validated) compile builds the set now
        run.first("")
    return run


def compile_targeting(targeting: Mapping[str, Any], basics: FlagBasics, strict: bool = False) -> CompiledTargeting:
    return CompiledTargeting(targeting, basics, strict)


def explain_rule(rule: CompiledRule, context: Context, segments: Segments) -> tuple[bool, str]:
    """Whether ``rule`` holds for ``context`` and, in words, which part failed."""
    label = f"Rule {rule.id!r}" + (f" ({rule.name})" if rule.name else "")
    for key in rule.segment_keys:
        segment = segments.get(key)
        if segment is None:
            return False, f"{label}: segment {key!r} does not exist."
        if not segment.matches(context):
            return False, f"{label}: segment {key!r} does not match."
    for spec in rule.constraint_specs:
        if not compile_constraint(spec, strict=False)(context):
            attribute = spec.get("attribute")
            value = context.get(attribute) if isinstance(attribute, str) else None
            shown = "absent" if value is None else repr(value)
            negation = "NOT " if spec.get("inverted") else ""
            return False, (
                f"{label}: constraint {attribute} {negation}{spec.get('operator')} {list(spec.get('values') or [])} "
                f"fails ({attribute} is {shown})."
            )
    if rule.in_bucket is None:
        return True, f"{label} holds (100 %)."
    value = rule.sticky(context)
    if value is None:
        return (
            False,
            f"{label}: no value to hash ({rule.stickiness}); only a 100 % rule holds; "
            f"this one is at {rule.percentage} %.",
        )
    inside = rule.in_bucket(context)
    if rule.bucketing == "crc32":
        detail = f"crc32 bucket {crc32_bucket(value)} (in below {rule.whole}) of {value!r}"
    elif rule.bucketing == "crc32_inv":
        detail = f"crc32 bucket {legacy_crc32_bucket(value)} (in from {rule.whole}) of {value!r}"
    else:
        h = murmur3_32(rule.salt_prefix + value, 0, False)
        detail = f"bucket {h % 100 + 1} (fine {(h // 100) % 1000}) of {value!r}"
    return inside, f"{label}: {detail} is {'inside' if inside else 'outside'} {rule.percentage} %."


def _id_set(value: Any) -> IdSet:
    if not value:
        return EMPTY_ID_SET
    return value if isinstance(value, IdSet) else build_id_set(value)
