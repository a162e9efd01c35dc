"""A flag compiled for fast evaluation."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping
from itertools import accumulate
from typing import Any

from .constraints import as_text, compile_constraint
from .context import Context
from .definition import BUCKETING, DefinitionError, InvalidDefinition, to_timestamp, validate_definition
from .hashing import (
    crc32_bucket,
    hashable,
    legacy_crc32_bucket,
    murmur_bucket,
    signed_crc32,
    unsigned_crc32,
    variant_target,
)
from .idset import EMPTY_ID_SET, IdSet, build_id_set
from .rules import compile_rules


class CompiledFlag:
    """Everything the evaluator needs, precomputed; immutable once built."""

    __slots__ = (
        "bucketing",
        "client_side",
        "constraint_specs",
        "constraints",
        "enabled",
        "end_at",
        "environments",
        "excluded",
        "excluded_count",
        "has_schedule",
        "key",
        "percentage",
        "pinned",
        "prerequisites",
        "rule_patterns",
        "rules",
        "salt_prefix",
        "start_at",
        "stickiness",
        "targeted",
        "total_weight",
        "user_count",
        "variant_bounds",
        "variant_names",
    )

    def __init__(self, definition: Mapping[str, Any], validate: bool = True) -> None:
        """Compile ``definition``; ``validate=False`` for definitions validated when written
        (the store's), which then only fail on what cannot be compiled at all."""
        if validate:
            errors = validate_definition(definition)
            if errors:
                raise InvalidDefinition(errors)
        else:
            _check_shape(definition)
        get = definition.get  # absent and None both mean "the default"
        self.key: str = definition["key"]
        self.enabled: bool = get("enabled") is True
        self.client_side: bool = get("client_side") is True  # the client endpoint shows only these
        percentage = get("percentage")
        self.percentage: int = 100 if percentage is None else percentage
        self.environments = frozenset(get("environments") or ()) or None
        start_at, end_at = get("start_at"), get("end_at")
        self.start_at = None if start_at is None else to_timestamp(start_at)
        self.end_at = None if end_at is None else to_timestamp(end_at)
        self.has_schedule = self.start_at is not None or self.end_at is not None
        self.prerequisites: tuple[tuple[str, str | None], ...] = tuple(
            (p["key"], p.get("variant") or None) for p in get("prerequisites") or ()
        )
        excluded = _id_set(get("excluded_users"))
        users = _id_set(get("users"))
        self.excluded_count = len(excluded)
        self.user_count = len(users)
        # None rather than an empty set: the hot path then skips the call.
        self.excluded: Callable[[str], bool] | None = excluded.contains if self.excluded_count else None
        self.targeted: Callable[[str], bool] | None = users.contains if self.user_count else None
        self.rule_patterns: tuple[str, ...] = tuple(get("rules") or ())
        self.rules = compile_rules(self.rule_patterns)
        self.constraint_specs = tuple(dict(c) if isinstance(c, Mapping) else {} for c in get("constraints") or ())
        # Unvalidated (stored) definitions compile leniently: a constraint that slipped through is false.
        self.constraints = tuple(compile_constraint(c, strict=validate) for c in self.constraint_specs)
        self.stickiness: str = get("stickiness") or "default"
        self.salt_prefix: str = hashable((get("salt") or self.key) + ":")
        self.bucketing: str = get("bucketing") or "murmur3"
        variants = get("variants") or ()
        names = tuple(v["name"] for v in variants)
        weights = [v.get("weight", 1) for v in variants]
        self.variant_names = names
        self.variant_bounds = tuple(accumulate(weights))
        self.total_weight = sum(weights)
        if names and self.total_weight <= 0:
            raise InvalidDefinition([DefinitionError(self.key, "variants", "The weights must add up to more than 0.")])
        pinned = get("pinned_variants")
        self.pinned: dict[str, str] = {str(k): v for k, v in pinned.items()} if pinned else {}

    def sticky_value(self, context: Context) -> str | None:
        """The value hashed for the rollout and the variant, or None."""
        stickiness = self.stickiness
        if stickiness == "default":
            value = context.user_id or context.anonymous_id
        elif stickiness == "user_id":
            value = context.user_id
        elif stickiness == "anonymous_id":
            value = context.anonymous_id
        else:
            raw = context.attributes.get(stickiness)
            value = None if raw is None else hashable(as_text(raw))
        return value or None

    def bucket(self, value: str) -> int:
        """The bucket of ``value`` on this flag's scale (1..100 murmur3, 0..99 crc32)."""
        if self.bucketing == "crc32":
            return crc32_bucket(value)
        if self.bucketing == "crc32_inv":
            return legacy_crc32_bucket(value)
        return murmur_bucket(self.salt_prefix, value)

    def in_rollout(self, value: str) -> bool:
        if self.bucketing == "crc32":
            return crc32_bucket(value) < self.percentage
        if self.bucketing == "crc32_inv":  # hanoi 0.0.4's inverted test, kept for migrated cohorts
            return legacy_crc32_bucket(value) >= self.percentage
        return murmur_bucket(self.salt_prefix, value) <= self.percentage

    def variant_for(self, context: Context | None) -> str | None:
        """The variant served when the flag is on for ``context``."""
        if not self.variant_names:
            return None
        user_id = context.user_id if context is not None else None
        return self.variant_of(user_id, (self.sticky_value(context) if context is not None else None) or "")

    def variant_of(self, user_id: str | None, value: str) -> str:
        """The variant of a flag with variants for ``user_id`` (pins) and sticky ``value`` ("" for none)."""
        if user_id is not None and self.pinned:
            pinned = self.pinned.get(user_id)
            if pinned is not None:
                return pinned
        if self.bucketing == "crc32":
            target = signed_crc32(value) % self.total_weight + 1
        elif self.bucketing == "crc32_inv":
            target = unsigned_crc32(value) % self.total_weight + 1
        else:
            target = variant_target(self.salt_prefix, value, self.total_weight)
        return self.variant_names[bisect_left(self.variant_bounds, target)]  # the first bound >= target

    def __repr__(self) -> str:
        return f"<CompiledFlag {self.key!r} enabled={self.enabled} percentage={self.percentage}>"


_LIST_TYPES = (list, tuple, type(None))
_BUCKETINGS = frozenset((None, *BUCKETING))


def _check_shape(definition: Mapping[str, Any]) -> None:
    """The types evaluation relies on, for definitions compiled without validation: a wrong one
    would raise inside every check (a text percentage) or mean something else ("prod" as
    environments: p, r, o, d). Other fields of a wrong type fail to compile, or fail closed."""
    get = definition.get
    percentage = get("percentage")
    if (
        (percentage is None or (type(percentage) is int and 0 <= percentage <= 100))
        and type(get("environments")) in _LIST_TYPES
        and type(get("rules")) in _LIST_TYPES
        and get("bucketing") in _BUCKETINGS
        and not isinstance(get("users"), (str, bytes, Mapping))
        and not isinstance(get("excluded_users"), (str, bytes, Mapping))
    ):
        return  # the usual case, kept to a few lookups: every process compiles all flags at start
    wrong = {
        "percentage": not (percentage is None or (type(percentage) is int and 0 <= percentage <= 100)),
        "environments": type(get("environments")) not in _LIST_TYPES,
        "rules": type(get("rules")) not in _LIST_TYPES,
        "bucketing": get("bucketing") not in _BUCKETINGS,
        "users": isinstance(get("users"), (str, bytes, Mapping)),
        "excluded_users": isinstance(get("excluded_users"), (str, bytes, Mapping)),
    }
    key = str(get("key"))
    raise InvalidDefinition(
        [
            DefinitionError(key, name, f"{get(name)!r} is not what this field holds.")
            for name, bad in wrong.items()
            if bad
        ]
    )


def _id_set(value: Any) -> IdSet:
    if not value:
        return EMPTY_ID_SET
    return value if isinstance(value, IdSet) else build_id_set(value)
