"""The product's own lossless JSON format, for moving flags between environments.

    {"format": "featureflags", "version": 1, "exported_at": "...",
     "flags": [{"key": "new_ui", "enabled": true, ..., "users": ["42"], "excluded_users": []}]}

Every editable field and both user lists are kept, so exporting and importing
into an empty database gives identical decisions. ``write_export`` streams, so
a million-id list never sits in memory as one JSON string.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from ..models import Flag
from ..serialization import EDITABLE_FIELDS, flag_state, user_ids, with_relations

FORMAT_NAME = "featureflags"
FORMAT_VERSION = 1
LISTS = ("users", "excluded_users")


def write_export(out: IO[str], keys: Iterable[str] | None = None) -> int:
    """Write the flags (all, or ``keys``) to ``out``; returns how many were written.

    >>> with open("flags.json", "w") as out:
    ...     write_export(out)
    """
    flags = with_relations(Flag.objects.order_by("key"))
    if keys is not None:
        wanted = list(keys)
        flags = flags.filter(key__in=wanted)
        missing = sorted(set(wanted) - set(flags.values_list("key", flat=True)))
        if missing:
            raise ValidationError({"keys": [f"No flag is called {', '.join(missing)}."]})
    header = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "exported_at": timezone.now().isoformat()}
    out.write(json.dumps(header)[:-1] + ', "flags": [')
    count = 0
    for count, flag in enumerate(flags, start=1):
        state = {name: value for name, value in flag_state(flag).items() if name != "version"}
        out.write(",\n" if count > 1 else "\n")
        out.write(json.dumps(state, sort_keys=True)[:-1])
        for field, excluded in (("users", False), ("excluded_users", True)):
            out.write(f', "{field}": [')
            for index, user_id in enumerate(user_ids(flag, excluded)):
                out.write((", " if index else "") + json.dumps(user_id))
            out.write("]")
        out.write("}")
    out.write("\n]}\n")
    return count


def parse_export(data: Any) -> dict[str, dict[str, Any]]:
    """Definitions keyed by flag, for ``services.apply_definitions``; every problem at once."""
    if not isinstance(data, Mapping) or data.get("format") != FORMAT_NAME:
        raise ValidationError({"file": [f'Not a featureflags export (no "format": "{FORMAT_NAME}").']})
    if data.get("version") != FORMAT_VERSION:
        raise ValidationError({"version": [f"This version reads format version {FORMAT_VERSION} only."]})
    flags = data.get("flags")
    if not isinstance(flags, list):
        raise ValidationError({"flags": ["A list of flags."]})
    errors: dict[str, list[str]] = {}
    definitions: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate(flags):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("key"), str):
            errors.setdefault(f"flags.{index}", []).append("A flag is an object with a string key.")
            continue
        key = entry["key"]
        if key in definitions:
            errors.setdefault(f"{key}.key", []).append("This flag appears twice.")
        for field in sorted(set(entry) - set(EDITABLE_FIELDS) - set(LISTS) - {"key"}):
            errors.setdefault(f"{key}.{field}", []).append("Not a field of a flag.")
        for field in LISTS:
            if field in entry and not isinstance(entry[field], list):
                errors.setdefault(f"{key}.{field}", []).append("A list of user ids.")
        definitions[key] = {name: value for name, value in entry.items() if name != "key"}
    if errors:
        raise ValidationError(errors)
    return definitions
