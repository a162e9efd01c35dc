"""Load definitions from any format, all or nothing, with an optional progress bar over the user ids.

Flags are written first (one ``apply_definitions`` call, validated as a whole),
then each changed user list, all inside one transaction: a bad id anywhere
leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db import transaction

from .. import services
from ..models import Source

LISTS = ("users", "excluded_users")


def load(
    definitions: Mapping[str, Mapping[str, Any]],
    *,
    dry_run: bool = False,
    actor: str | None = None,
    source: str = Source.IMPORT,
    source_detail: str = "",
    progress: Callable[[Iterable[str], int, str], Iterable[str]] | None = None,
) -> dict[str, str]:
    """``{key: created|updated|unchanged}``; ``progress(ids, total, key)`` may wrap each list (tqdm).

    >>> load(parse_config(data), source_detail="features_config.json", dry_run=True)
    {'new_ui': 'created', 'advanced_search': 'created'}
    """
    report = services.apply_definitions(
        definitions, dry_run=True, actor=actor, source=source, source_detail=source_detail
    )
    if dry_run:
        return report
    flags_only = {key: {k: v for k, v in d.items() if k not in LISTS} for key, d in definitions.items()}
    with transaction.atomic():
        services.apply_definitions(flags_only, actor=actor, source=source, source_detail=source_detail)
        for key, definition in definitions.items():
            if report[key] == "unchanged":
                continue
            for field in LISTS:
                if field not in definition:
                    continue
                ids = [str(i) for i in definition[field]]
                if report[key] == "created" and not ids:
                    continue
                if report[key] == "updated" and set(ids) == set(_current_ids(key, field)):
                    continue  # only the flag's fields changed: the list keeps its version
                stream = progress(ids, len(ids), f"{key} {field}") if progress and ids else ids
                services.replace_users(
                    key,
                    stream,
                    excluded=field == "excluded_users",
                    actor=actor,
                    source=source,
                    source_detail=source_detail,
                )
    return report


def _current_ids(key: str, field: str) -> Iterable[str]:
    from ..models import FlagUser

    return FlagUser.objects.filter(flag__key=key, excluded=field == "excluded_users").values_list("user_id", flat=True)
