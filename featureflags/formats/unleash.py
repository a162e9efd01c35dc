"""Unleash's feature state (``/api/client/features``, the client specification's ``state``) as
version-2 definitions and segments (``spec/evaluation.md``, "Conformance with Unleash").

A pure mapping, no Django and no I/O: ``from_unleash(state, environment)`` gives the flags,
the segments and, for the features that cannot be expressed, why (random stickiness, a key
that is not ASCII, an override on something other than the user id). One to one:

- each strategy is a rule, in order (``default`` = 100 %; ``userWithId`` = ``user_id IN``;
  ``remoteAddress`` = ``ip IN_CIDR``; ``gradualRolloutUserId``/``SessionId`` and
  ``flexibleRollout`` = percentage, stickiness and ``groupId`` as the rule's salt); a
  disabled strategy, or one Unleash does not know, never holds;
- strategy constraints and segments; a segment with no constraints matches everyone in
  Unleash, so a rule simply does not reference it;
- strategy variants = rule variants, feature variants = the flag's (hashed with the feature
  name and the first variant's stickiness), payloads = values, overrides on ``userId`` =
  pinned variants;
- dependencies = prerequisites with ``enabled`` and ``variants`` (Unleash's ``disabled``
  pseudo-variant, served by a parent that is on without variants, is "on" for a parent
  that has none).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..engine.definition import is_valid_key

CONTEXT_NAMES = {"userId": "user_id", "sessionId": "anonymous_id", "remoteAddress": "ip", "environment": "environment"}
STICKINESS = {"default": "default", "userId": "user_id", "sessionId": "anonymous_id"}
PAYLOAD_TYPES = {"string": "string", "csv": "string", "number": "number", "json": "json"}


class Unsupported(Exception):
    """A feature the contract cannot express; the message says why."""


@dataclass
class UnleashImport:
    flags: list[dict[str, Any]] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)
    unsupported: dict[str, str] = field(default_factory=dict)  # feature name -> why it was left out


def from_unleash(state: Mapping[str, Any], environment: str = "default") -> UnleashImport:
    """Unleash's ``{"features": [...], "segments": [...]}`` as flags and segments of ``environment``.

    >>> result = from_unleash({"features": [{"name": "f", "enabled": True, "strategies": [{"name": "default"}]}]})
    >>> result.flags[0]["environments"]["default"]["rules"][0]["percentage"]
    100
    """
    segments = {s["id"]: s for s in state.get("segments") or []}
    keys = segment_keys(segments.values())
    result = UnleashImport(segments=[_segment(s, keys[s["id"]]) for s in segments.values() if s.get("constraints")])
    features = {f["name"]: f for f in state.get("features") or []}
    for name, feature in features.items():
        try:
            result.flags.append(_feature(feature, features, segments, keys, environment))
        except Unsupported as exc:
            result.unsupported[name] = str(exc)
    return result


def segment_keys(segments: Iterable[Mapping[str, Any]]) -> dict[Any, str]:
    """Unleash segment id -> our key: its name when that is a valid key used once, else ``segment-<id>``."""
    segments = list(segments)
    names = [s.get("name") for s in segments]
    return {
        s["id"]: s["name"] if is_valid_key(s.get("name")) and names.count(s["name"]) == 1 else f"segment-{s['id']}"
        for s in segments
    }


def _segment(segment: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {
        "key": key,
        "description": segment.get("description") or "",
        "constraints": [_constraint(c) for c in segment.get("constraints") or []],
    }


def _feature(
    feature: Mapping[str, Any],
    features: Mapping[str, Any],
    segments: Mapping[Any, Any],
    keys: Mapping[Any, str],
    environment: str,
) -> dict[str, Any]:
    name = feature["name"]
    if not is_valid_key(name):
        raise Unsupported(f"the flag name {name!r} is not a valid key (ASCII letters, digits, '_', '-', '.')")
    strategies = feature.get("strategies") or []
    feature_variants = feature.get("variants") or []
    all_variants = [*feature_variants, *(v for s in strategies for v in s.get("variants") or [])]
    value_type = _value_type(all_variants)
    rules = [_rule(s, index, name, segments, keys, value_type) for index, s in enumerate(strategies)]
    pinned: dict[str, str] = {}
    for variant in feature_variants:
        for override in variant.get("overrides") or []:
            if override.get("contextName") != "userId":
                raise Unsupported(f"a variant override on {override.get('contextName')!r} (only userId pins)")
            pinned.update(dict.fromkeys(override.get("values") or [], variant["name"]))
    stickiness = _stickiness(feature_variants[0].get("stickiness") if feature_variants else None)
    if stickiness is None:
        if _hashes(feature_variants):
            raise Unsupported("random stickiness of the feature's variants")
        stickiness = "default"
    return {
        "schema": 2,
        "key": name,
        "value_type": value_type,
        "variants": [_variant(v, value_type) for v in feature_variants],
        "bucketing": "murmur3",
        "salt": "",
        "stickiness": stickiness,
        "prerequisites": [_prerequisite(d, features) for d in feature.get("dependencies") or []],
        "environments": {
            environment: {"enabled": bool(feature.get("enabled")), "pinned_variants": pinned, "rules": rules}
        },
        "description": feature.get("description") or "",
        "kind": feature.get("type") or "",
        "metadata": {"unleash": {"project": feature.get("project")}} if feature.get("project") else {},
    }


def _rule(
    strategy: Mapping[str, Any],
    index: int,
    feature: str,
    segments: Mapping[Any, Any],
    keys: Mapping[Any, str],
    value_type: str,
) -> dict[str, Any]:
    kind = strategy.get("name")
    params = strategy.get("parameters") or {}
    constraints = [_constraint(c) for c in strategy.get("constraints") or []]
    rule: dict[str, Any] = {
        "id": str(strategy.get("id") or f"strategy-{index + 1}"),
        "name": strategy.get("title") or kind or "",
        "segments": [],
        "constraints": constraints,
        "percentage": 100,
        "stickiness": "default",
        "salt": str(params.get("groupId") or feature),
    }
    for segment_id in strategy.get("segments") or []:
        segment = segments.get(segment_id)
        if segment is None:  # kept: the write path refuses it, and at evaluation it matches nobody, as Unleash
            rule["segments"].append(f"segment-{segment_id}")
        elif segment.get("constraints"):
            rule["segments"].append(keys[segment_id])
    if strategy.get("disabled"):
        rule["percentage"] = 0  # Unleash skips it: it never holds
    elif kind == "default":
        pass
    elif kind == "userWithId":
        ids = _split(params.get("userIds", ""))
        constraints.append({"attribute": "user_id", "operator": "IN", "values": ids})
    elif kind in ("gradualRolloutUserId", "gradualRolloutSessionId"):
        rule["percentage"] = _percentage(params.get("percentage", 0))
        rule["stickiness"] = "user_id" if kind == "gradualRolloutUserId" else "anonymous_id"
    elif kind == "flexibleRollout":
        rule["percentage"] = _percentage(params.get("rollout", 100))
        stickiness = _stickiness(params.get("stickiness"))
        if stickiness is None:
            if 0 < rule["percentage"] < 100:
                raise Unsupported("random stickiness")
            stickiness = "default"
        rule["stickiness"] = stickiness
    elif kind == "gradualRolloutRandom":
        rule["percentage"] = _percentage(params.get("percentage", 0))
        if 0 < rule["percentage"] < 100:
            raise Unsupported("random stickiness (gradualRolloutRandom)")
    elif kind == "remoteAddress":
        constraints.append({"attribute": "ip", "operator": "IN_CIDR", "values": _split(params.get("IPs", ""))})
    else:
        rule["percentage"] = 0  # a strategy Unleash does not know is false there
    variants = strategy.get("variants") or []
    if variants:
        if _stickiness(variants[0].get("stickiness") or rule["stickiness"]) is None and _hashes(variants):
            raise Unsupported("random stickiness of the strategy's variants")
        rule["variants"] = [_variant(v, value_type) for v in variants]
    return rule


def _constraint(constraint: Mapping[str, Any]) -> dict[str, Any]:
    values = constraint.get("values") or []
    if not values and constraint.get("value") is not None:
        values = [constraint["value"]]
    name = constraint["contextName"]
    return {
        "attribute": CONTEXT_NAMES.get(name, name),
        "operator": constraint["operator"],
        "values": list(values),
        "inverted": bool(constraint.get("inverted", False)),
        "case_insensitive": bool(constraint.get("caseInsensitive", False)),
    }


def _prerequisite(dependency: Mapping[str, Any], features: Mapping[str, Any]) -> dict[str, Any]:
    parent = dependency["feature"]
    enabled = dependency.get("enabled", True) is not False
    wanted = list(dependency.get("variants") or [])
    if "disabled" in wanted:
        parent_feature = features.get(parent) or {}
        has_variants = bool(parent_feature.get("variants")) or any(
            s.get("variants") for s in parent_feature.get("strategies") or []
        )
        wanted.remove("disabled")
        if not has_variants:
            wanted = []  # a parent without variants serves "disabled" whenever it is on
        elif not wanted:
            raise Unsupported(f"requires the 'disabled' pseudo-variant of {parent!r}, which has variants")
    return {"flag": parent, "enabled": enabled, "variants": wanted if enabled else []}


def _value_type(variants: list[Mapping[str, Any]]) -> str:
    types = {PAYLOAD_TYPES.get((v.get("payload") or {}).get("type"), "json") for v in variants if v.get("payload")}
    if not types:
        return "boolean"
    if len(types) == 1 and all(v.get("payload") for v in variants):
        return types.pop()
    return "json"


def _variant(variant: Mapping[str, Any], value_type: str) -> dict[str, Any]:
    mapped: dict[str, Any] = {"name": variant["name"], "weight": int(variant.get("weight", 1))}
    payload = variant.get("payload")
    if value_type == "boolean":
        return mapped
    if payload is None:
        mapped["value"] = {}
    elif value_type == "json" and payload.get("type") != "json":
        mapped["value"] = dict(payload)
    elif value_type == "json":
        mapped["value"] = json.loads(payload["value"])
    elif value_type == "number":
        mapped["value"] = float(payload["value"])
    else:
        mapped["value"] = str(payload["value"])
    return mapped


def _stickiness(stickiness: str | None) -> str | None:
    """Ours for Unleash's; None for ``random``."""
    stickiness = stickiness or "default"
    if stickiness == "random":
        return None
    return STICKINESS.get(stickiness) or CONTEXT_NAMES.get(stickiness, stickiness)


def _hashes(variants: list[Mapping[str, Any]]) -> bool:
    return sum(1 for v in variants if int(v.get("weight", 1)) > 0) > 1


def _percentage(value: Any) -> float:
    try:
        number = float(str(value))
    except ValueError:
        raise Unsupported(f"the percentage {value!r} is not a number") from None
    return int(number) if number == int(number) else round(number, 3)


def _split(text: str) -> list[str]:
    return [part.strip() for part in str(text).split(",") if part.strip()]
