"""Definitions read from the models (the source of truth), in a fixed number of queries.

A definition is the engine's dict for one flag (``featureflags.engine``), with its
user lists as compiled :class:`IdSet` objects, plus ``rev`` (the version of the
flag's last change) and ``users_version`` (of its lists' last change).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..engine.idset import IdSet, build_id_set
from ..models import Flag, FlagUser
from ..serialization import RULE_FIELDS, flag_state, with_relations

LIST_FIELDS = ("users", "excluded_users")


def definitions(keys: list[str] | None = None, known: Mapping[str, dict] | None = None) -> dict[str, dict[str, Any]]:
    """The definitions of these flags (None: all). Lists whose ``users_version`` matches
    the one in ``known`` are reused from it instead of being read again."""
    queryset = with_relations(Flag.objects.all())
    if keys is not None:
        queryset = queryset.filter(key__in=keys)
    flags = list(queryset)
    known = known or {}
    out: dict[str, dict[str, Any]] = {}
    to_read: dict[int, str] = {}
    for flag in flags:
        state = flag_state(flag)
        definition = {name: state[name] for name in ("key",) + RULE_FIELDS}
        definition["rev"] = flag.mirror_version
        definition["users_version"] = flag.users_version
        previous = known.get(flag.key)
        if previous is not None and previous.get("users_version") == flag.users_version:
            for field in LIST_FIELDS:
                definition[field] = previous.get(field) or build_id_set(())
        else:
            to_read[flag.pk] = flag.key
        out[flag.key] = definition
    if to_read:
        lists = _user_lists(to_read, everything=keys is None and len(to_read) == len(flags))
        for key in to_read.values():
            users, excluded = lists.get(key, ((), ()))
            out[key]["users"] = build_id_set(users)
            out[key]["excluded_users"] = build_id_set(excluded)
    return out


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


def id_set_of(definition: Mapping[str, Any], field: str) -> IdSet:
    value = definition.get(field)
    return value if isinstance(value, IdSet) else build_id_set(value or ())
