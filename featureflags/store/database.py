"""Definitions read from the models (the source of truth)."""

from __future__ import annotations

from typing import Any

from ..engine.idset import IdSet, build_id_set
from ..models import Flag, MirrorState
from ..serialization import RULE_FIELDS, flag_state, user_ids, with_relations


def current_version() -> int:
    return MirrorState.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def rule_definition(flag: Flag) -> dict[str, Any]:
    """The engine fields of a flag, without its user lists; carries ``rev``."""
    state = flag_state(flag)
    definition = {name: state[name] for name in ("key",) + RULE_FIELDS}
    definition["rev"] = flag.mirror_version
    definition["users_version"] = flag.users_version
    return definition


def load_id_set(flag: Flag, field: str) -> IdSet:
    return build_id_set(set(user_ids(flag, excluded=(field == "excluded_users"))))


def flags(keys: list[str] | None = None):
    queryset = with_relations(Flag.objects.all())
    return queryset if keys is None else queryset.filter(key__in=keys)
