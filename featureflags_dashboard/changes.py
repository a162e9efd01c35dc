"""Between a form and the service layer: what changed (errors are placed by ``featureflags.editing``)."""

from __future__ import annotations

import json
from typing import Any

from featureflags.serialization import EDITABLE_FIELDS

# Shown in diffs; the list counts are audited alongside the fields.
DIFF_FIELDS = EDITABLE_FIELDS + ("user_count", "excluded_count", "users", "excluded_users")


def changed_fields(loaded: dict[str, Any], proposed: dict[str, Any]) -> dict[str, Any]:
    """The proposed values that differ from what the operator loaded."""
    return {name: value for name, value in proposed.items() if loaded.get(name) != value}


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[dict[str, str]]:
    """``[{"field", "before", "after"}]`` for every field whose value differs, as readable text.

    >>> diff({"percentage": 30}, {"percentage": 50})
    [{'field': 'percentage', 'before': '30', 'after': '50'}]
    """
    before, after = before or {}, after or {}
    rows = []
    for name in DIFF_FIELDS:
        if name in before or name in after:
            old, new = before.get(name), after.get(name)
            if old != new:
                rows.append({"field": name, "before": show(old), "after": show(new)})
    return rows


def show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value if value else '""'
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
