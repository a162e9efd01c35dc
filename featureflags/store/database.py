"""Definitions read from the models (the source of truth), in a fixed number of queries.

A definition is the engine's dict for one flag (``featureflags.engine``), with its
user lists as compiled :class:`IdSet` objects, plus ``rev`` (the version of the
flag's last change) and ``users_version`` (of its lists' last change).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..engine.idset import COMPACT_THRESHOLD, IdSet, build_id_set
from ..models import Constraint, Flag, FlagUser, PinnedVariant, Prerequisite, Rule, Variant
from ..serialization import RULE_FIELDS, variant_state

LIST_FIELDS = ("users", "excluded_users")


# The evaluated fields kept on the flag row itself (the rest are relations, read below).
SCALARS = tuple(
    f for f in RULE_FIELDS if f not in ("rules", "constraints", "variants", "pinned_variants", "prerequisites")
)


def definitions(keys: list[str] | None = None, known: Mapping[str, dict] | None = None) -> dict[str, dict[str, Any]]:
    """The definitions of these flags (None: all), in seven queries whatever their number.

    Lists whose ``users_version`` matches the one in ``known`` are reused from it
    instead of being read again. Plain rows, no model instances: for 10,000 flags
    the ORM's prefetching alone costs seconds (a queryset cloned per flag and relation).
    """
    flags = Flag.objects.all() if keys is None else Flag.objects.filter(key__in=keys)
    rows = flags.values_list("pk", "key", "mirror_version", "users_version", *SCALARS)
    known = known or {}
    out: dict[str, dict[str, Any]] = {}
    by_pk: dict[int, dict[str, Any]] = {}
    to_read: dict[int, str] = {}
    for pk, key, rev, users_version, *scalars in rows.iterator(chunk_size=10_000):
        definition: dict[str, Any] = {"key": key, **dict(zip(SCALARS, scalars))}
        for name in ("start_at", "end_at"):
            if isinstance(definition[name], datetime):
                definition[name] = definition[name].isoformat()
        definition.update(
            rev=rev, users_version=users_version, rules=[], constraints=[], variants=[], pinned_variants={}
        )
        definition["prerequisites"] = []
        previous = known.get(key)
        if previous is not None and previous.get("users_version") == users_version:
            for field in LIST_FIELDS:
                definition[field] = previous.get(field) or []
        else:
            to_read[pk] = key
        out[key] = by_pk[pk] = definition
    if not by_pk:
        return out
    everything = keys is None
    _add_relations(by_pk, everything)
    if to_read:
        lists = _user_lists(to_read, everything=everything and len(to_read) == len(by_pk))
        for key in to_read.values():
            users, excluded = lists.get(key, ([], []))
            out[key]["users"] = _compact(users)
            out[key]["excluded_users"] = _compact(excluded)
    return out


def _add_relations(by_pk: dict[int, dict[str, Any]], everything: bool) -> None:
    """Rules, constraints, variants, pinned variants and prerequisites, one query each, in order."""

    def rows(model: Any, *fields: str) -> Any:
        queryset = model.objects.all() if everything else model.objects.filter(flag_id__in=list(by_pk))
        found = queryset.order_by("flag_id", *model._meta.ordering).values_list("flag_id", *fields)
        return (row for row in found.iterator(chunk_size=10_000) if row[0] in by_pk)  # a flag created meanwhile

    for flag_id, pattern in rows(Rule, "pattern"):
        by_pk[flag_id]["rules"].append(pattern)
    for flag_id, attribute, operator, values, inverted, case_insensitive in rows(
        Constraint, "attribute", "operator", "values", "inverted", "case_insensitive"
    ):
        by_pk[flag_id]["constraints"].append(
            {
                "attribute": attribute,
                "operator": operator,
                "values": list(values),
                "inverted": inverted,
                "case_insensitive": case_insensitive,
            }
        )
    for flag_id, name, weight, value in rows(Variant, "name", "weight", "value"):
        by_pk[flag_id]["variants"].append(variant_state(name, weight, value))
    for flag_id, user_id, variant in rows(PinnedVariant, "user_id", "variant"):
        by_pk[flag_id]["pinned_variants"][user_id] = variant
    for flag_id, parent, variant in rows(Prerequisite, "parent__key", "variant"):
        by_pk[flag_id]["prerequisites"].append({"key": parent, **({"variant": variant} if variant else {})})


def _user_lists(flags: dict[int, str], everything: bool) -> dict[str, tuple[list[str], list[str]]]:
    """key -> (users, excluded users), in one streamed query."""
    rows = FlagUser.objects.all() if everything else FlagUser.objects.filter(flag_id__in=list(flags))
    lists: dict[str, tuple[list[str], list[str]]] = {}
    for flag_id, excluded, user_id in rows.values_list("flag_id", "excluded", "user_id").iterator(chunk_size=20_000):
        key = flags.get(flag_id)
        if key is None:
            continue
        pair = lists.get(key)
        if pair is None:
            pair = lists[key] = ([], [])
        pair[1 if excluded else 0].append(user_id)
    return lists


def _compact(ids: list[str]) -> list[str] | IdSet:
    """A large list compiled once (and reused while it does not change); a small one as it is
    (the engine compiles it with the flag, cheaper than keeping both forms)."""
    return build_id_set(ids) if len(ids) > COMPACT_THRESHOLD else ids
