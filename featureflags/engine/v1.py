"""A version-1 flag in version 2: the exact mapping of ``spec/evaluation.md``'s last section.

Version 1 was one flat targeting per flag: ``enabled``, ``percentage`` (whole),
``stickiness``, ``salt``, ``bucketing``, ``users``, ``excluded_users``, ``rules``
(regexes on the user id), ``constraints``, ``variants`` (no values),
``pinned_variants``, ``prerequisites`` (``{key, variant}``), ``environments`` (a list
of names, empty meaning all), ``start_at``, ``end_at``.

>>> flag = to_v2({"key": "new_ui", "enabled": True, "percentage": 30}, ["default", "production"])
>>> flag["environments"]["production"]["rules"]
[{'id': 'rollout', 'constraints': [], 'percentage': 30, 'stickiness': 'default'}]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .reasons import Reason

# The ids of the rules a version-1 flag becomes.
REGEX_RULE_ID = "regex-{}"  # one per regex, numbered from 1
ROLLOUT_RULE_ID = "rollout"  # the constraints and the percentage
METADATA_FIELDS = ("description", "owner", "tags", "kind", "expected_lifetime", "metadata", "guardrails")
DEFAULT_ENVIRONMENT = "default"


def migration_environments(definitions: Iterable[Mapping[str, Any]], deployment: str | None) -> list[str]:
    """The environments of the migration: every name in a version-1 list, ``ENVIRONMENT`` and ``default``."""
    names = {DEFAULT_ENVIRONMENT, deployment or DEFAULT_ENVIRONMENT}
    for definition in definitions:
        names.update(definition.get("environments") or ())
    return sorted(names)


def targeting_of(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The version-2 targeting of a version-1 flag, in an environment it is allowed in."""
    get = definition.get
    stickiness = get("stickiness") or "default"
    rules: list[dict[str, Any]] = [
        {
            "id": REGEX_RULE_ID.format(index + 1),
            "constraints": [{"attribute": "user_id", "operator": "REGEX", "values": [pattern]}],
            "percentage": 100,
            "stickiness": stickiness,
        }
        for index, pattern in enumerate(get("rules") or ())
    ]
    constraints = [dict(c) if isinstance(c, Mapping) else c for c in get("constraints") or ()]
    percentage = 100 if get("percentage") is None else get("percentage")
    if constraints or percentage != 100 or rules:
        rules.append(
            {"id": ROLLOUT_RULE_ID, "constraints": constraints, "percentage": percentage, "stickiness": stickiness}
        )
    return {
        "enabled": get("enabled") is True,
        "start_at": get("start_at"),
        "end_at": get("end_at"),
        "users": get("users") or [],
        "excluded_users": get("excluded_users") or [],
        "pinned_variants": dict(get("pinned_variants") or {}),
        "rules": rules,
    }


def switched_off(targeting: Mapping[str, Any]) -> dict[str, Any]:
    """The targeting an environment outside a version-1 list gets: the same, switched off."""
    return {**targeting, "enabled": False}


def to_v2(definition: Mapping[str, Any], environments: Iterable[str]) -> dict[str, Any]:
    """The version-2 form of a version-1 definition over ``environments`` (see
    :func:`migration_environments`); names in the flag's own list are always included."""
    get = definition.get
    listed = list(get("environments") or ())
    targeting = targeting_of(definition)
    names = list(dict.fromkeys([*environments, *listed]))
    flag: dict[str, Any] = {
        "schema": 2,
        "key": definition["key"],
        "value_type": get("value_type") or "boolean",
        "variants": [_variant(v) for v in get("variants") or ()],
        "bucketing": get("bucketing") or "murmur3",
        "salt": get("salt") or "",
        "stickiness": get("stickiness") or "default",
        "prerequisites": [
            {"flag": p["key"], "enabled": True, "variants": [p["variant"]] if p.get("variant") else []}
            for p in get("prerequisites") or ()
        ],
        "environments": {
            name: targeting if not listed or name in listed else switched_off(targeting) for name in names
        },
    }
    for field in METADATA_FIELDS:
        if field in definition:
            flag[field] = definition[field]
    return flag


def _variant(variant: Mapping[str, Any]) -> dict[str, Any]:
    """A variant in version 2: its value only when it has one (a boolean flag's may not)."""
    out = {"name": variant["name"], "weight": variant.get("weight", 1)}
    if variant.get("value") is not None:
        out["value"] = variant["value"]
    return out


def unlisted_targeting(definition: Mapping[str, Any], converted: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What any environment outside the mapping gets (a snapshot compiles version-1 flags without
    knowing every environment): the targeting when the list was empty, else a switched-off one.
    ``converted``: the flag's :func:`to_v2`, whose targeting is then reused."""
    listed = definition.get("environments")
    if converted is not None and converted["environments"]:
        targeting = next(iter(converted["environments"].values()))
        return switched_off(targeting) if listed else targeting
    targeting = targeting_of(definition)
    return switched_off(targeting) if definition.get("environments") else targeting


def v2_reason(reason: Reason, enabled: bool, definition: Mapping[str, Any]) -> Reason:
    """A version-1 decision's reason in version 2 (the spec's mapping)."""
    if reason is Reason.ENVIRONMENT:
        return Reason.OFF  # a name outside the list: that environment's targeting is switched off
    if reason is Reason.CONSTRAINT:
        return Reason.NO_MATCH
    if reason is Reason.ROLLOUT:
        if not enabled:
            return Reason.NO_MATCH
        plain = not definition.get("constraints") and not definition.get("rules")
        return Reason.DEFAULT if plain and definition.get("percentage", 100) in (None, 100) else Reason.RULE
    return reason
