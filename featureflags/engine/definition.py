"""The version-1 plain-data form of a flag, its validation, and what both versions share
(errors, keys, dates, prerequisite cycles).

A version-1 definition is a flat ``dict`` (engine/v1.py lists its fields); it is what
the store publishes to Redis today, what exports contain and what the engine compiles
(through engine/v1.py's mapping). Version 2 is engine/schema.py. Validation collects
every problem with the field it concerns, so callers can refuse a whole write or
import with all messages at once; the limits are engine/limits.py's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .constraints import ConstraintError, compile_constraint, parse_date
from .idset import IdSet
from .limits import (
    MAX_CONSTRAINTS,
    MAX_PATTERN_LENGTH,
    MAX_PREREQUISITES,
    MAX_REGEX_RULES,
    MAX_VALUE_LENGTH,
    MAX_VALUES,
    MAX_VARIANTS,
)
from .rules import RuleError, check_pattern
from .values import VALUE_TYPES, value_problem

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")
BUCKETING = ("murmur3", "crc32", "crc32_inv")
FIXED_STICKINESS = ("default", "user_id", "anonymous_id")

DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "percentage": 100,
    "users": [],
    "excluded_users": [],
    "rules": [],
    "constraints": [],
    "stickiness": "default",
    "salt": "",
    "bucketing": "murmur3",
    "variants": [],
    "pinned_variants": {},
    "prerequisites": [],
    "environments": [],
    "start_at": None,
    "end_at": None,
    # Exposed to browsers by the client endpoint; per environment with version 2 of the contract.
    "client_side": False,
    "value_type": "boolean",  # the type of the variants' values (engine/values.py)
}


@dataclass(frozen=True)
class DefinitionError:
    """One problem: ``field`` is a dotted path such as ``variants.1.weight``."""

    key: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.field}: {self.message}"


class InvalidDefinition(ValueError):
    """Raised with every :class:`DefinitionError` found."""

    def __init__(self, errors: list[DefinitionError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def is_valid_key(key: object) -> bool:
    return isinstance(key, str) and KEY_PATTERN.match(key) is not None


def validate_definition(definition: Mapping[str, Any]) -> list[DefinitionError]:
    """Every problem of one definition taken alone."""
    key = definition.get("key")
    label = key if isinstance(key, str) else "?"
    errors: list[DefinitionError] = []

    def error(field: str, message: str) -> None:
        errors.append(DefinitionError(label, field, message))

    if not is_valid_key(key):
        error("key", "A key is 1-100 ASCII letters, digits, '_', '-' or '.'.")
    if not isinstance(definition.get("enabled", False), bool):
        error("enabled", "Must be true or false.")
    if not isinstance(definition.get("client_side", False), bool):
        error("client_side", "Must be true or false.")
    percentage = definition.get("percentage", 100)
    if isinstance(percentage, bool) or not isinstance(percentage, int) or not 0 <= percentage <= 100:
        error("percentage", f"Must be a whole number from 0 to 100, not {percentage!r}.")
    for field in ("users", "excluded_users"):
        if not _is_id_collection(definition.get(field, ())):
            error(field, "Must be a list of user ids.")
    rules = definition.get("rules", [])
    if not isinstance(rules, (list, tuple)):
        error("rules", "Must be a list of regular expressions.")
    else:
        if len(rules) > MAX_REGEX_RULES:
            error("rules", f"At most {MAX_REGEX_RULES} rules, not {len(rules)}.")
        for index, pattern in enumerate(rules):
            if isinstance(pattern, str) and len(pattern) > MAX_PATTERN_LENGTH:
                error(f"rules.{index}", f"At most {MAX_PATTERN_LENGTH} characters.")
                continue
            try:
                check_pattern(pattern, index)
            except RuleError as exc:
                error(f"rules.{index}", str(exc))
    constraints = definition.get("constraints", [])
    if not isinstance(constraints, (list, tuple)):
        error("constraints", "Must be a list.")
    else:
        if len(constraints) > MAX_CONSTRAINTS:
            error("constraints", f"At most {MAX_CONSTRAINTS} constraints, not {len(constraints)}.")
        for index, spec in enumerate(constraints):
            if not isinstance(spec, Mapping):
                error(f"constraints.{index}", "A constraint is an object.")
                continue
            values = spec.get("values") or []
            if isinstance(values, (list, tuple)):
                if len(values) > MAX_VALUES:
                    error(f"constraints.{index}.values", f"At most {MAX_VALUES} values, not {len(values)}.")
                limit = MAX_PATTERN_LENGTH if spec.get("operator") == "REGEX" else MAX_VALUE_LENGTH
                if any(len(str(v)) > limit for v in values):
                    error(f"constraints.{index}.values", f"A value is at most {limit} characters.")
            try:
                compile_constraint(spec)
            except ConstraintError as exc:
                error(f"constraints.{index}.{exc.field}", exc.message)
    stickiness = definition.get("stickiness", "default")
    if not isinstance(stickiness, str) or not stickiness:
        error("stickiness", "Must be 'default', 'user_id', 'anonymous_id' or an attribute name.")
    if not isinstance(definition.get("salt", ""), str):
        error("salt", "Must be a string.")
    if definition.get("bucketing", "murmur3") not in BUCKETING:
        error("bucketing", f"Must be one of {', '.join(BUCKETING)}.")
    value_type = definition.get("value_type", "boolean")
    if value_type not in VALUE_TYPES:
        error("value_type", f"Must be one of {', '.join(VALUE_TYPES)}, not {value_type!r}.")
        value_type = "json"  # the variants' values are still checked as JSON
    variant_names = _validate_variants(definition.get("variants", []), value_type, error)
    pinned = definition.get("pinned_variants", {})
    if not isinstance(pinned, Mapping):
        error("pinned_variants", "Must map user ids to variant names.")
    else:
        for user_id, name in pinned.items():
            if not isinstance(name, str) or name not in variant_names:
                error("pinned_variants", f"User {user_id!r} is pinned to {name!r}, which is not a variant.")
    _validate_prerequisites(definition.get("prerequisites", []), label, error)
    environments = definition.get("environments", [])
    if not isinstance(environments, (list, tuple)) or not all(isinstance(e, str) and e for e in environments):
        error("environments", "Must be a list of environment names.")
    start_at, end_at = definition.get("start_at"), definition.get("end_at")
    for field, value in (("start_at", start_at), ("end_at", end_at)):
        if value is not None and to_timestamp(value) is None:
            error(field, f"{value!r} is not an ISO 8601 date and time.")
    start, end = to_timestamp(start_at), to_timestamp(end_at)
    if start is not None and end is not None and end <= start:
        error("end_at", "The end of the schedule must come after its start.")
    return errors


def validate_definitions(definitions: Mapping[str, Mapping[str, Any]]) -> list[DefinitionError]:
    """Every problem of a whole set: each definition, missing prerequisites, cycles."""
    errors: list[DefinitionError] = []
    for definition in definitions.values():
        errors.extend(validate_definition(definition))
    return errors + validate_references(definitions)


def validate_references(definitions: Mapping[str, Mapping[str, Any]]) -> list[DefinitionError]:
    """Problems between flags: prerequisites naming no flag or no variant, cycles."""
    errors: list[DefinitionError] = []
    for key, definition in definitions.items():
        prerequisites = definition.get("prerequisites", []) or []
        for index, prerequisite in enumerate(prerequisites if isinstance(prerequisites, (list, tuple)) else []):
            parent = prerequisite.get("key") if isinstance(prerequisite, Mapping) else None
            if isinstance(parent, str) and parent not in definitions:
                errors.append(DefinitionError(key, f"prerequisites.{index}", f"No flag is called {parent!r}."))
            elif isinstance(parent, str) and prerequisite.get("variant"):
                variants = definitions[parent].get("variants", []) or []
                names = {v.get("name") for v in variants if isinstance(v, Mapping)}
                if prerequisite["variant"] not in names:
                    errors.append(
                        DefinitionError(
                            key,
                            f"prerequisites.{index}.variant",
                            f"{parent!r} has no variant {prerequisite['variant']!r}.",
                        )
                    )
    for cycle in find_cycles(definitions):
        message = "Prerequisites form a cycle: " + " -> ".join(cycle)
        # Reported against every flag on the cycle: any of them may be the one being edited.
        errors.extend(DefinitionError(key, "prerequisites", message) for key in dict.fromkeys(cycle))
    return errors


def prerequisite_keys(definition: Mapping[str, Any]) -> list[str]:
    return [
        p["key"]
        for p in definition.get("prerequisites", []) or []
        if isinstance(p, Mapping) and isinstance(p.get("key"), str)
    ]


def find_cycles(definitions: Mapping[str, Mapping[str, Any]]) -> list[list[str]]:
    """Each prerequisite cycle once, as the keys along it (first key repeated last)."""
    graph = {key: prerequisite_keys(d) for key, d in definitions.items()}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles: list[list[str]] = []
    for root in graph:
        if state.get(root):
            continue
        path: list[str] = []
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            node, child_index = stack.pop()
            if child_index == 0:
                state[node] = 1
                path.append(node)
            children = graph.get(node, [])
            if child_index < len(children):
                stack.append((node, child_index + 1))
                child = children[child_index]
                if state.get(child) == 1:
                    cycles.append(path[path.index(child) :] + [child])
                elif not state.get(child) and child in graph:
                    stack.append((child, 0))
            else:
                state[node] = 2
                path.pop()
    return cycles


def keys_in_cycles(definitions: Mapping[str, Mapping[str, Any]]) -> frozenset[str]:
    return frozenset(key for cycle in find_cycles(definitions) for key in cycle)


def to_timestamp(value: Any) -> float | None:
    """Epoch seconds from a datetime, an ISO 8601 string or a number; None if invalid."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, (str, datetime)):
        return None
    parsed = parse_date(value)
    return None if parsed is None else parsed.timestamp()


def _is_id_collection(value: Any) -> bool:
    if isinstance(value, IdSet):
        return True
    if isinstance(value, (str, bytes, Mapping)):
        return False
    return isinstance(value, Iterable)


def _validate_variants(variants: Any, value_type: str, error) -> set[str]:
    if not isinstance(variants, (list, tuple)):
        error("variants", "Must be a list of {name, weight}.")
        return set()
    if len(variants) > MAX_VARIANTS:
        error("variants", f"At most {MAX_VARIANTS} variants.")
    names: set[str] = set()
    total = 0
    for index, variant in enumerate(variants):
        if not isinstance(variant, Mapping):
            error(f"variants.{index}", "A variant is an object with a name and a weight.")
            continue
        name = variant.get("name")
        if not isinstance(name, str) or not name:
            error(f"variants.{index}.name", "A variant needs a name.")
        elif name in names:
            error(f"variants.{index}.name", f"The variant name {name!r} is used twice.")
        else:
            names.add(name)
        weight = variant.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
            error(f"variants.{index}.weight", f"A weight is a whole number >= 0, not {weight!r}.")
        else:
            total += weight
        problem = value_problem(variant.get("value"), value_type)
        if problem:
            error(f"variants.{index}.value", problem)
    if variants and total <= 0:
        error("variants", "The variant weights must add up to more than 0.")
    return names


def _validate_prerequisites(prerequisites: Any, key: str, error) -> None:
    if not isinstance(prerequisites, (list, tuple)):
        error("prerequisites", "Must be a list of {key, variant}.")
        return
    if len(prerequisites) > MAX_PREREQUISITES:
        error("prerequisites", f"At most {MAX_PREREQUISITES} prerequisites.")
    seen: set[str] = set()
    for index, prerequisite in enumerate(prerequisites):
        if not isinstance(prerequisite, Mapping) or not is_valid_key(prerequisite.get("key")):
            error(f"prerequisites.{index}.key", "A prerequisite names a flag key.")
        elif prerequisite["key"] == key:
            error(f"prerequisites.{index}.key", "A flag cannot be its own prerequisite.")
        elif prerequisite["key"] in seen:
            error(f"prerequisites.{index}.key", f"{prerequisite['key']!r} is already a prerequisite.")
        elif prerequisite.get("variant") is not None and not isinstance(prerequisite.get("variant"), str):
            error(f"prerequisites.{index}.variant", "A required variant is a name.")
        if isinstance(prerequisite, Mapping) and isinstance(prerequisite.get("key"), str):
            seen.add(prerequisite["key"])
