"""Between a form and the service layer: what changed, and where its errors belong."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from featureflags.serialization import EDITABLE_FIELDS

from .forms import filled

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


def apply_errors(
    error: ValidationError, form: forms.Form, formsets: dict[str, forms.BaseFormSet]
) -> dict[str, list[str]]:
    """Put a service ValidationError's messages on the form field or formset row they name.

    Returns messages for whole sections (``{"variants": [...]}``) or with no home on the page (``{"": [...]}``).
    """
    leftover: dict[str, list[str]] = {}
    for key, messages in error.message_dict.items():
        name, _, rest = key.partition(".")
        if name in formsets:
            if _on_row(formsets[name], rest, messages):
                continue
            leftover.setdefault(name, []).extend(messages)
        elif name in form.fields and name not in ("version", "loaded"):
            for message in messages:
                form.add_error(name, message)
        else:
            leftover.setdefault("", []).extend(f"{key}: {m}" for m in messages)
    return leftover


def _on_row(formset: forms.BaseFormSet, rest: str, messages: list[str]) -> bool:
    """``rest`` is ``"<index>.<field>"`` or ``"<index>"``, an index into the saved list (filled rows)."""
    index, _, field = rest.partition(".")
    if not index.isdigit():
        return False
    rows = filled(formset)
    if int(index) >= len(rows):
        return False
    row = rows[int(index)]
    field = field.partition(".")[0]
    for message in messages:
        row.add_error(field if field in row.fields else None, message)
    return True
