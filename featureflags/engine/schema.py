"""Version 2 of a flag definition (``spec/evaluation.md``), as plain data, and its validation.

A flag::

    {
        "schema": 2,                       # marks version 2 (a mapping "environments" does too)
        "key": "checkout_layout",
        "value_type": "string",            # boolean (default) | string | number | json
        "variants": [{"name": "single", "weight": 50, "value": "single_page"}, ...],
        "bucketing": "murmur3",            # murmur3 (default) | crc32 | crc32_inv (whole percentages)
        "salt": "",                        # "" means the key
        "stickiness": "default",           # the value the flag's own variants hash (Unleash: the variants')
        "prerequisites": [{"flag": "new_ui", "enabled": True, "variants": ["b"]}],
        "environments": {
            "production": {                # a targeting
                "enabled": True, "start_at": None, "end_at": None,
                "excluded_users": [...], "users": [...], "pinned_variants": {"42": "single"},
                "rules": [                 # [] means on for everyone
                    {"id": "beta-us", "name": "", "segments": ["beta"],
                     "constraints": [{"attribute": "region", "operator": "IN", "values": ["US"],
                                      "inverted": False, "case_insensitive": False}],
                     "percentage": 12.5, "stickiness": "default", "salt": "", "variants": []},
                ],
            },
        },
        "guardrails": {"error_threshold": 10, "performance_baseline": 0.2, "performance_threshold": 5},
        "description": "", "owner": "", "tags": [], "kind": "release", "expected_lifetime": 30,
        "metadata": {},
    }

A segment: ``{"key", "description", "included": [...], "excluded": [...], "constraints": [...]}``.

Validation checks every field, names it with a dotted path
(``environments.production.rules.2.percentage``) and then compiles what it accepts,
so nothing valid can fail at evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .constraints import OPERATORS, ConstraintError, compile_constraint
from .definition import (
    BUCKETING,
    DefinitionError,
    InvalidDefinition,
    find_cycles,
    is_valid_key,
    to_timestamp,
)
from .idset import IdSet
from .limits import (
    MAX_CONSTRAINTS,
    MAX_ENVIRONMENTS,
    MAX_PATTERN_LENGTH,
    MAX_PINNED_VARIANTS,
    MAX_PREREQUISITE_DEPTH,
    MAX_PREREQUISITES,
    MAX_RULES,
    MAX_SEGMENTS_PER_RULE,
    MAX_VALUE_LENGTH,
    MAX_VALUES,
    MAX_VARIANTS,
)
from .targeting import FlagBasics, compile_segment, compile_targeting
from .values import VALUE_TYPES, value_problem

FLAG_FIELDS = frozenset(
    (
        "schema",
        "key",
        "value_type",
        "variants",
        "bucketing",
        "salt",
        "stickiness",
        "prerequisites",
        "environments",
        "guardrails",
        "description",
        "owner",
        "tags",
        "kind",
        "client_side",
        "expected_lifetime",
        "metadata",
    )
)
TARGETING_FIELDS = frozenset(("enabled", "start_at", "end_at", "excluded_users", "users", "pinned_variants", "rules"))
RULE_FIELDS = frozenset(("id", "name", "segments", "constraints", "percentage", "stickiness", "salt", "variants"))
SEGMENT_FIELDS = frozenset(("key", "description", "included", "excluded", "constraints"))
GUARDRAIL_FIELDS = frozenset(("error_threshold", "performance_baseline", "performance_threshold"))
CONSTRAINT_FIELDS = frozenset(("attribute", "operator", "values", "inverted", "case_insensitive"))

Error = Callable[[str, str], None]


def is_v2(definition: Mapping[str, Any]) -> bool:
    """Is this a version-2 definition (``schema: 2``, or environments as a mapping)?"""
    return definition.get("schema") == 2 or isinstance(definition.get("environments"), Mapping)


def validate_flag(
    definition: Mapping[str, Any], segments: Iterable[str] | None = None, compile_check: bool = True
) -> list[DefinitionError]:
    """Every problem of one version-2 flag taken alone; ``segments``: the segment keys that exist
    (None: not checked). With no problem found, the flag is compiled in every environment."""
    key = definition.get("key")
    label = key if isinstance(key, str) else "?"
    errors: list[DefinitionError] = []

    def error(field: str, message: str) -> None:
        errors.append(DefinitionError(label, field, message))

    if not isinstance(definition, Mapping):
        return [DefinitionError(label, "", "A flag is an object.")]
    for name in definition:
        if name not in FLAG_FIELDS:
            error(str(name), "Unknown field.")
    if not is_valid_key(key):
        error("key", "A key is 1-100 ASCII letters, digits, '_', '-' or '.'.")
    value_type = definition.get("value_type", "boolean")
    if value_type not in VALUE_TYPES:
        error("value_type", f"Must be one of {', '.join(VALUE_TYPES)}.")
        value_type = "json"  # still check the variants' shape
    bucketing = definition.get("bucketing", "murmur3") or "murmur3"
    if bucketing not in BUCKETING:
        error("bucketing", f"Must be one of {', '.join(BUCKETING)}.")
    _text(definition.get("salt", ""), "salt", error)
    _stickiness(definition.get("stickiness", "default"), "stickiness", error)
    flag_variants = _variants(definition.get("variants", []), "variants", value_type, bucketing, error)
    _prerequisites(definition.get("prerequisites", []), label, error)
    _guardrails(definition.get("guardrails"), error)
    _metadata(definition, error)

    environments = definition.get("environments", {})
    if not isinstance(environments, Mapping):
        error("environments", "Must map environment names to targetings.")
        environments = {}
    if len(environments) > MAX_ENVIRONMENTS:
        error("environments", f"At most {MAX_ENVIRONMENTS} environments.")
    known = None if segments is None else frozenset(segments)
    for name, targeting in environments.items():
        if not isinstance(name, str) or not is_valid_key(name):
            error(f"environments.{name}", "An environment name is 1-100 ASCII letters, digits, '_', '-' or '.'.")
            continue
        _targeting(targeting, f"environments.{name}", flag_variants, value_type, bucketing, known, error)
    if not errors and compile_check:
        errors.extend(_compiles(definition, label))
    return errors


def validate_segment(segment: Mapping[str, Any]) -> list[DefinitionError]:
    """Every problem of one segment."""
    key = segment.get("key") if isinstance(segment, Mapping) else None
    label = key if isinstance(key, str) else "?"
    errors: list[DefinitionError] = []

    def error(field: str, message: str) -> None:
        errors.append(DefinitionError(label, field, message))

    if not isinstance(segment, Mapping):
        return [DefinitionError(label, "", "A segment is an object.")]
    for name in segment:
        if name not in SEGMENT_FIELDS:
            error(str(name), "Unknown field.")
    if not is_valid_key(key):
        error("key", "A key is 1-100 ASCII letters, digits, '_', '-' or '.'.")
    _text(segment.get("description", ""), "description", error)
    for field in ("included", "excluded"):
        if not _is_id_collection(segment.get(field, ())):
            error(field, "Must be a list of user ids.")
    _constraints(segment.get("constraints", []), "constraints", error)
    if not errors:
        try:
            compile_segment(segment)
        except Exception as exc:  # any failure here is a bug in validation: refuse rather than store it
            error("", f"Cannot be compiled: {exc}")
    return errors


def validate_flags(
    definitions: Mapping[str, Mapping[str, Any]], segments: Mapping[str, Mapping[str, Any]] | None = None
) -> list[DefinitionError]:
    """Every problem of a whole set of version-2 flags and segments: each one, missing
    prerequisites or variants, unknown segments, cycles."""
    segment_keys = None if segments is None else list(segments)
    errors: list[DefinitionError] = []
    for segment in (segments or {}).values():
        errors.extend(validate_segment(segment))
    for definition in definitions.values():
        errors.extend(validate_flag(definition, segment_keys))
    for key, definition in definitions.items():
        prerequisites = definition.get("prerequisites") or []
        for index, prerequisite in enumerate(prerequisites if isinstance(prerequisites, list) else []):
            parent = prerequisite.get("flag") if isinstance(prerequisite, Mapping) else None
            if not isinstance(parent, str):
                continue
            if parent not in definitions:
                errors.append(DefinitionError(key, f"prerequisites.{index}.flag", f"No flag is called {parent!r}."))
                continue
            names = _variant_names_anywhere(definitions[parent])
            for wanted in prerequisite.get("variants") or []:
                if wanted not in names:
                    errors.append(
                        DefinitionError(
                            key, f"prerequisites.{index}.variants", f"{parent!r} has no variant {wanted!r}."
                        )
                    )
    graph = {key: {"prerequisites": _parents(d)} for key, d in definitions.items()}
    cycles = find_cycles(graph)
    for cycle in cycles:
        message = "Prerequisites form a cycle: " + " -> ".join(cycle)
        errors.extend(DefinitionError(key, "prerequisites", message) for key in dict.fromkeys(cycle))
    if not cycles:
        for key, depth in _depths(graph).items():
            if depth > MAX_PREREQUISITE_DEPTH:
                message = f"A chain of {depth} prerequisites; at most {MAX_PREREQUISITE_DEPTH}."
                errors.append(DefinitionError(key, "prerequisites", message))
    return errors


def _depths(graph: Mapping[str, Mapping[str, list[dict[str, str]]]]) -> dict[str, int]:
    """How many prerequisites deep each flag's longest chain goes (the graph has no cycle)."""
    depths: dict[str, int] = {}
    for root in graph:
        stack = [(root, False)]
        while stack:
            key, children_done = stack.pop()
            if key in depths or key not in graph:
                continue
            parents = [p["key"] for p in graph[key]["prerequisites"] if p["key"] in graph]
            if children_done:
                depths[key] = 1 + max((depths[p] for p in parents), default=-1)
            else:
                stack.append((key, True))
                stack.extend((p, False) for p in parents if p not in depths)
    return depths


def check_flag(definition: Mapping[str, Any], segments: Iterable[str] | None = None) -> None:
    """Raise :class:`InvalidDefinition` with every problem of ``definition``."""
    errors = validate_flag(definition, segments)
    if errors:
        raise InvalidDefinition(errors)


# -- the parts -----------------------------------------------------------------------------------


def _targeting(
    targeting: Any,
    path: str,
    flag_variants: set[str],
    value_type: str,
    bucketing: str,
    segments: frozenset[str] | None,
    error: Error,
) -> None:
    if not isinstance(targeting, Mapping):
        error(path, "A targeting is an object.")
        return
    for name in targeting:
        if name not in TARGETING_FIELDS:
            error(f"{path}.{name}", "Unknown field.")
    if not isinstance(targeting.get("enabled", False), bool):
        error(f"{path}.enabled", "Must be true or false.")
    start_at, end_at = targeting.get("start_at"), targeting.get("end_at")
    for field, value in (("start_at", start_at), ("end_at", end_at)):
        if value is not None and to_timestamp(value) is None:
            error(f"{path}.{field}", f"{value!r} is not an ISO 8601 date and time.")
    start, end = to_timestamp(start_at), to_timestamp(end_at)
    if start is not None and end is not None and end <= start:
        error(f"{path}.end_at", "The end of the schedule must come after its start.")
    for field in ("users", "excluded_users"):
        if not _is_id_collection(targeting.get(field, ())):
            error(f"{path}.{field}", "Must be a list of user ids.")
    rules = targeting.get("rules", [])
    if not isinstance(rules, (list, tuple)):
        error(f"{path}.rules", "Must be a list of rules.")
        rules = []
    if len(rules) > MAX_RULES:
        error(f"{path}.rules", f"At most {MAX_RULES} rules, not {len(rules)}.")
    ids: set[str] = set()
    every_variant = set(flag_variants)
    for index, rule in enumerate(rules):
        every_variant |= _rule(rule, f"{path}.rules.{index}", ids, value_type, bucketing, segments, error)
    pinned = targeting.get("pinned_variants", {})
    if not isinstance(pinned, Mapping):
        error(f"{path}.pinned_variants", "Must map user ids to variant names.")
    else:
        if len(pinned) > MAX_PINNED_VARIANTS:
            error(f"{path}.pinned_variants", f"At most {MAX_PINNED_VARIANTS} pinned users.")
        for user_id, name in pinned.items():
            if not isinstance(name, str) or name not in every_variant:
                error(f"{path}.pinned_variants", f"User {user_id!r} is pinned to {name!r}, which is not a variant.")


def _rule(
    rule: Any,
    path: str,
    ids: set[str],
    value_type: str,
    bucketing: str,
    segments: frozenset[str] | None,
    error: Error,
) -> set[str]:
    if not isinstance(rule, Mapping):
        error(path, "A rule is an object.")
        return set()
    for name in rule:
        if name not in RULE_FIELDS:
            error(f"{path}.{name}", "Unknown field.")
    rule_id = rule.get("id")
    if not isinstance(rule_id, str) or not rule_id or len(rule_id) > 100:
        error(f"{path}.id", "A rule needs an id: 1-100 characters, unique in the targeting.")
    elif rule_id in ids:
        error(f"{path}.id", f"The rule id {rule_id!r} is used twice.")
    else:
        ids.add(rule_id)
    _text(rule.get("name", ""), f"{path}.name", error)
    keys = rule.get("segments", [])
    if not isinstance(keys, (list, tuple)) or not all(isinstance(k, str) for k in keys):
        error(f"{path}.segments", "Must be a list of segment keys.")
    else:
        if len(keys) > MAX_SEGMENTS_PER_RULE:
            error(f"{path}.segments", f"At most {MAX_SEGMENTS_PER_RULE} segments.")
        for index, segment in enumerate(keys):
            if segments is not None and segment not in segments:
                error(f"{path}.segments.{index}", f"No segment is called {segment!r}.")
    _constraints(rule.get("constraints", []), f"{path}.constraints", error)
    _percentage(rule.get("percentage", 100), f"{path}.percentage", bucketing, error)
    _stickiness(rule.get("stickiness", "default"), f"{path}.stickiness", error)
    _text(rule.get("salt", ""), f"{path}.salt", error)
    return _variants(rule.get("variants", []), f"{path}.variants", value_type, bucketing, error)


def _percentage(value: Any, path: str, bucketing: str, error: Error) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        error(path, f"Must be a number from 0 to 100, not {value!r}.")
    elif not 0 <= value <= 100:
        error(path, f"Must be from 0 to 100, not {value!r}.")
    elif abs(value * 1000 - round(value * 1000)) > 1e-6:
        error(path, f"At most three decimals (0.001 % steps), not {value!r}.")
    elif bucketing != "murmur3" and value != int(value):
        error(path, f"{bucketing} bucketing takes whole percentages, not {value!r}.")


def _constraints(constraints: Any, path: str, error: Error) -> None:
    if not isinstance(constraints, (list, tuple)):
        error(path, "Must be a list of constraints.")
        return
    if len(constraints) > MAX_CONSTRAINTS:
        error(path, f"At most {MAX_CONSTRAINTS} constraints, not {len(constraints)}.")
    for index, spec in enumerate(constraints):
        here = f"{path}.{index}"
        if not isinstance(spec, Mapping):
            error(here, "A constraint is an object.")
            continue
        for name in spec:
            if name not in CONSTRAINT_FIELDS:
                error(f"{here}.{name}", "Unknown field.")
        values = spec.get("values") or []
        if isinstance(values, (list, tuple)):
            if len(values) > MAX_VALUES:
                error(f"{here}.values", f"At most {MAX_VALUES} values, not {len(values)}.")
            limit = MAX_PATTERN_LENGTH if spec.get("operator") == "REGEX" else MAX_VALUE_LENGTH
            for position, value in enumerate(values):
                if isinstance(value, (dict, list)):
                    error(f"{here}.values.{position}", "A value is a string, a number or a boolean.")
                elif len(str(value)) > limit:
                    error(f"{here}.values.{position}", f"At most {limit} characters.")
        for name in ("inverted", "case_insensitive"):
            if not isinstance(spec.get(name, False), bool):
                error(f"{here}.{name}", "Must be true or false.")
        if spec.get("operator") not in OPERATORS:
            error(f"{here}.operator", f"Unknown constraint operator {spec.get('operator')!r}.")
            continue
        try:
            compile_constraint(spec)
        except ConstraintError as exc:
            error(f"{here}.{exc.field}", exc.message)


def _variants(variants: Any, path: str, value_type: str, bucketing: str, error: Error) -> set[str]:
    if not isinstance(variants, (list, tuple)):
        error(path, "Must be a list of {name, weight, value}.")
        return set()
    if len(variants) > MAX_VARIANTS:
        error(path, f"At most {MAX_VARIANTS} variants.")
    names: set[str] = set()
    weights: list[int] = []
    for index, variant in enumerate(variants):
        here = f"{path}.{index}"
        if not isinstance(variant, Mapping):
            error(here, "A variant is an object with a name, a weight and a value.")
            continue
        for field in variant:
            if field not in ("name", "weight", "value"):
                error(f"{here}.{field}", "Unknown field.")
        name = variant.get("name")
        if not isinstance(name, str) or not name or len(name) > 100:
            error(f"{here}.name", "A variant needs a name of 1-100 characters.")
        elif name in names:
            error(f"{here}.name", f"The variant name {name!r} is used twice.")
        else:
            names.add(name)
        weight = variant.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
            error(f"{here}.weight", f"A weight is a whole number >= 0, not {weight!r}.")
        else:
            weights.append(weight)
        _value(variant, f"{here}.value", value_type, error)
    if variants and sum(weights) <= 0:
        error(path, "The variant weights must add up to more than 0.")
    if bucketing != "murmur3" and len(set(weights)) > 1:
        error(path, f"{bucketing} bucketing (hanoi's) needs equal weights.")
    return names


def _value(variant: Mapping[str, Any], path: str, value_type: str, error: Error) -> None:
    problem = value_problem(variant.get("value"), value_type)
    if problem:
        error(path, problem)


def _prerequisites(prerequisites: Any, key: str, error: Error) -> None:
    if not isinstance(prerequisites, (list, tuple)):
        error("prerequisites", "Must be a list of {flag, enabled, variants}.")
        return
    if len(prerequisites) > MAX_PREREQUISITES:
        error("prerequisites", f"At most {MAX_PREREQUISITES} prerequisites.")
    seen: set[str] = set()
    for index, prerequisite in enumerate(prerequisites):
        here = f"prerequisites.{index}"
        if not isinstance(prerequisite, Mapping) or not is_valid_key(prerequisite.get("flag")):
            error(f"{here}.flag", "A prerequisite names a flag key.")
            continue
        for field in prerequisite:
            if field not in ("flag", "enabled", "variants"):
                error(f"{here}.{field}", "Unknown field.")
        parent = prerequisite["flag"]
        if parent == key:
            error(f"{here}.flag", "A flag cannot be its own prerequisite.")
        elif parent in seen:
            error(f"{here}.flag", f"{parent!r} is already a prerequisite.")
        seen.add(parent)
        enabled = prerequisite.get("enabled", True)
        if not isinstance(enabled, bool):
            error(f"{here}.enabled", "Must be true or false.")
        variants = prerequisite.get("variants") or []
        if not isinstance(variants, (list, tuple)) or not all(isinstance(v, str) and v for v in variants):
            error(f"{here}.variants", "Must be a list of variant names.")
        elif variants and enabled is False:
            error(f"{here}.variants", "A prerequisite that must be off serves no variant.")


def _guardrails(guardrails: Any, error: Error) -> None:
    if guardrails is None:
        return
    if not isinstance(guardrails, Mapping):
        error("guardrails", "Must be an object.")
        return
    for name, value in guardrails.items():
        if name not in GUARDRAIL_FIELDS:
            error(f"guardrails.{name}", "Unknown field.")
        elif value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
            error(f"guardrails.{name}", f"Must be a number above 0, not {value!r}.")
        elif name != "performance_baseline" and value is not None and not isinstance(value, int):
            error(f"guardrails.{name}", f"Must be a whole number, not {value!r}.")


def _metadata(definition: Mapping[str, Any], error: Error) -> None:
    for field in ("description", "owner", "kind"):
        _text(definition.get(field, ""), field, error)
    tags = definition.get("tags", [])
    if not isinstance(tags, (list, tuple)) or not all(isinstance(t, str) for t in tags):
        error("tags", "Must be a list of strings.")
    lifetime = definition.get("expected_lifetime")
    if lifetime is not None and (isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime < 0):
        error("expected_lifetime", "Must be a whole number of days >= 0.")
    if not isinstance(definition.get("metadata", {}), Mapping):
        error("metadata", "Must be an object.")
    if not isinstance(definition.get("client_side", False), bool):
        error("client_side", "Must be true or false.")


def _text(value: Any, path: str, error: Error) -> None:
    if value is not None and not isinstance(value, str):
        error(path, "Must be a string.")


def _stickiness(value: Any, path: str, error: Error) -> None:
    if not isinstance(value, str) or not value:
        error(path, "Must be 'default', 'user_id', 'anonymous_id' or an attribute name.")


def _is_id_collection(value: Any) -> bool:
    if isinstance(value, IdSet):
        return True
    if isinstance(value, (str, bytes, Mapping)):
        return False
    return isinstance(value, Iterable)


def _parents(definition: Mapping[str, Any]) -> list[dict[str, str]]:
    return [
        {"key": p["flag"]}
        for p in definition.get("prerequisites") or []
        if isinstance(p, Mapping) and isinstance(p.get("flag"), str)
    ]


def _variant_names_anywhere(definition: Mapping[str, Any]) -> set[str]:
    """The flag's variants and every rule's, in any environment: what a prerequisite may name."""
    names = {v.get("name") for v in definition.get("variants") or [] if isinstance(v, Mapping)}
    for targeting in (definition.get("environments") or {}).values():
        for rule in (targeting or {}).get("rules") or []:
            names |= {v.get("name") for v in (rule or {}).get("variants") or [] if isinstance(v, Mapping)}
    return names


def _compiles(definition: Mapping[str, Any], label: str) -> list[DefinitionError]:
    """Compile every environment of a flag found valid: anything that fails is refused, not stored."""
    try:
        basics = FlagBasics(definition)
        for targeting in (definition.get("environments") or {}).values():
            compile_targeting(targeting, basics, strict=True)
    except InvalidDefinition as exc:
        return list(exc.errors)
    except Exception as exc:  # a gap in validation: refuse with what failed
        return [DefinitionError(label, "environments", f"Cannot be compiled: {exc}")]
    return []
