"""What an edit form means to the service layer, shared by the Django admin and the dashboard.

One place for: the on / partial / off state (filter and label), the rows of a
formset that will exist after a save, those rows as service fields, and where a
service ``ValidationError``'s messages belong on the page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from .models import Flag

# ``?state=`` values and their words, in the order filters show them.
STATE_CHOICES = (("on", "ON (100 %)"), ("partial", "ON, partly"), ("off", "OFF"))


def filter_by_state(queryset: QuerySet[Flag], state: str | None) -> QuerySet[Flag]:
    """Flags fully on (``"on"``), on for part of the contexts (``"partial"``) or off; anything else: all."""
    if state == "on":
        return queryset.filter(enabled=True, percentage=100)
    if state == "partial":
        return queryset.filter(enabled=True, percentage__lt=100)
    if state == "off":
        return queryset.filter(enabled=False)
    return queryset


def state_of(flag: Flag) -> tuple[str, str]:
    """The state's name (``on``/``partial``/``off``, a CSS class) and its words: never colour alone.

    >>> state_of(Flag(enabled=True, percentage=30))
    ('partial', 'ON · 30 %')
    """
    if not flag.enabled:
        return "off", "OFF"
    if flag.percentage < 100:
        return "partial", f"ON · {flag.percentage} %"
    return "on", "ON"


def split_words(text: str) -> list[str]:
    """``"a, b,,c "`` -> ``["a", "b", "c"]``."""
    return [word.strip() for word in (text or "").split(",") if word.strip()]


def kept_rows(formset: forms.BaseFormSet) -> list[forms.Form]:
    """The rows that will exist after the save, in order: filled in (or already stored) and not deleted."""
    return [
        row
        for row in formset.forms
        if row.cleaned_data and not row.cleaned_data.get("DELETE", False) and (_is_stored(row) or row.has_changed())
    ]


def _is_stored(row: forms.Form) -> bool:
    instance = getattr(row, "instance", None)  # admin inlines are model forms; dashboard rows are plain forms
    return instance is not None and instance.pk is not None


def rows_state(field: str, rows: list[forms.Form]) -> Any:
    """Kept rows as the service field ``field`` (``rules``, ``variants``, ``constraints``,
    ``prerequisites`` or ``pinned_variants``)."""
    data = [row.cleaned_data for row in rows]
    if field == "rules":
        return [d["pattern"] for d in data]
    if field == "variants":
        # A value only when given (None: a boolean flag's variant without one), as the stored state has it.
        return [
            {"name": d["name"], "weight": d["weight"], **({} if d.get("value") is None else {"value": d["value"]})}
            for d in data
        ]
    if field == "constraints":
        return [
            {
                "attribute": d["attribute"],
                "operator": d["operator"],
                "values": _values(d.get("values")),
                "inverted": bool(d.get("inverted")),
                "case_insensitive": bool(d.get("case_insensitive")),
            }
            for d in data
        ]
    if field == "prerequisites":
        return [{"key": _prerequisite_key(d), **({"variant": d["variant"]} if d.get("variant") else {})} for d in data]
    if field == "pinned_variants":
        return {d["user_id"]: d["variant"] for d in data}
    raise ValueError(f"No rows make the field {field!r}.")


def _values(raw: Any) -> list[Any]:
    # The dashboard types values as comma-separated text; the admin's JSON box gives a list.
    return split_words(raw) if isinstance(raw, str) else list(raw or [])


def _prerequisite_key(data: dict[str, Any]) -> str:
    # The admin's row chooses the parent Flag; the dashboard's row types its key.
    return data["parent"].key if data.get("parent") is not None else data["key"]


def place_errors(
    error: ValidationError, form: forms.Form, formsets: dict[str, forms.BaseFormSet]
) -> dict[str, list[str]]:
    """Put a service ValidationError's messages on the form field or formset row they name.

    ``formsets`` maps service fields (``"variants"``) to the formsets that edit them;
    ``"variants.2.weight"`` lands on the third kept row's weight. Returns the messages
    for a whole section (``{"variants": [...]}``) and those with no home on the page
    (``{"": ["key: message"]}``).
    """
    leftover: dict[str, list[str]] = {}
    for key, messages in error.message_dict.items():
        name, _, rest = key.partition(".")
        if name in formsets:
            if not _on_row(formsets[name], rest, messages):
                leftover.setdefault(name, []).extend(messages)
        elif name in form.fields and not form.fields[name].widget.is_hidden:
            for message in messages:
                form.add_error(name, message)
        else:
            leftover.setdefault("", []).extend(f"{key}: {m}" for m in messages)
    return leftover


def _on_row(formset: forms.BaseFormSet, rest: str, messages: list[str]) -> bool:
    """``rest`` is ``"<index>.<field>"`` or ``"<index>"``, an index into the saved list (the kept rows)."""
    index, _, field = rest.partition(".")
    if not index.isdigit():
        return False
    rows = kept_rows(formset)
    if int(index) >= len(rows):
        return False
    row = rows[int(index)]
    field = field.partition(".")[0]
    if field == "key" and "key" not in row.fields and "parent" in row.fields:
        field = "parent"  # a prerequisite's key, chosen as the parent Flag in the admin
    for message in messages:
        row.add_error(field if field in row.fields else None, message)
    return True
