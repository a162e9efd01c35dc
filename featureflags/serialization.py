"""Flags as plain data: the engine's definition, and the full state kept in the audit log."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet

from .models import Flag, FlagUser, Prerequisite

# Fields an operator edits, besides the user lists (which have their own writes).
RULE_FIELDS = (
    "enabled",
    "percentage",
    "stickiness",
    "salt",
    "bucketing",
    "value_type",
    "environments",
    "start_at",
    "end_at",
    "rules",
    "constraints",
    "variants",
    "pinned_variants",
    "prerequisites",
    "client_side",
)
META_FIELDS = (
    "error_threshold",
    "error_window_seconds",
    "performance_baseline",
    "performance_threshold",
    "description",
    "owner",
    "tags",
    "kind",
    "expected_lifetime_days",
    "metadata",
)
EDITABLE_FIELDS = RULE_FIELDS + META_FIELDS
SCALAR_FIELDS = tuple(
    f for f in EDITABLE_FIELDS if f not in ("rules", "constraints", "variants", "pinned_variants", "prerequisites")
)


def with_relations(queryset: QuerySet[Flag]) -> QuerySet[Flag]:
    return queryset.prefetch_related(
        "rules",
        "constraints",
        "variants",
        "pinned_variants",
        Prefetch("prerequisites", queryset=Prerequisite.objects.select_related("parent")),
    )


def flag_state(flag: Flag) -> dict[str, Any]:
    """Every editable field of ``flag`` (not its user lists) as JSON-ready data."""
    state: dict[str, Any] = {"key": flag.key}
    for name in SCALAR_FIELDS:
        value = getattr(flag, name)
        state[name] = value.isoformat() if isinstance(value, datetime) else value
    state["rules"] = [r.pattern for r in flag.rules.all()]
    state["constraints"] = [
        {
            "attribute": c.attribute,
            "operator": c.operator,
            "values": list(c.values),
            "inverted": c.inverted,
            "case_insensitive": c.case_insensitive,
        }
        for c in flag.constraints.all()
    ]
    state["variants"] = [variant_state(v.name, v.weight, v.value) for v in flag.variants.all()]
    state["pinned_variants"] = {p.user_id: p.variant for p in flag.pinned_variants.all()}
    state["prerequisites"] = [
        {"key": p.parent.key, **({"variant": p.variant} if p.variant else {})} for p in flag.prerequisites.all()
    ]
    state["version"] = flag.version
    return state


def variant_state(name: str, weight: int, value: Any) -> dict[str, Any]:
    """A variant as plain data: ``value`` only when it has one (a boolean flag's may not)."""
    return {"name": name, "weight": weight} if value is None else {"name": name, "weight": weight, "value": value}


def user_ids(flag: Flag, excluded: bool = False) -> Iterable[str]:
    """The ids of one list, streamed from the database."""
    return (
        FlagUser.objects.filter(flag=flag, excluded=excluded)
        .values_list("user_id", flat=True)
        .iterator(chunk_size=20_000)
    )


def user_count(flag: Flag, excluded: bool = False) -> int:
    return FlagUser.objects.filter(flag=flag, excluded=excluded).count()
