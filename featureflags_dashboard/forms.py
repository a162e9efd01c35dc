"""The flag page's forms: plain Django forms whose data becomes a service-layer change."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from featureflags.editing import kept_rows, rows_state, split_words
from featureflags.engine.constraints import OPERATORS
from featureflags.models import Bucketing, FlagKind, ValueType
from featureflags.serialization import EDITABLE_FIELDS

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        # Seconds kept, so saving another field never moves a schedule set elsewhere to the minute.
        super().__init__(format="%Y-%m-%dT%H:%M:%S", attrs={"step": "1"}, **kwargs)


class CreateFlagForm(forms.Form):
    key = forms.CharField(max_length=100, help_text="Letters, digits, '_', '-' or '.'; it cannot change later.")
    kind = forms.ChoiceField(choices=FlagKind.choices, initial=FlagKind.RELEASE)
    owner = forms.CharField(max_length=200, required=False, help_text="A team or a person to ask about it.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class FlagForm(forms.Form):
    """The scalar fields of a flag; lists (variants, constraints, prerequisites) are formsets."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    loaded = forms.CharField(widget=forms.HiddenInput, help_text="The state the operator loaded, as JSON.")
    percentage = forms.IntegerField(
        min_value=0, max_value=100, help_text="Share of the contexts that pass the constraints."
    )
    stickiness = forms.CharField(
        max_length=100, help_text="What is hashed: default, user_id, anonymous_id or an attribute name."
    )
    salt = forms.CharField(max_length=100, required=False, help_text="Empty: the flag key.")
    bucketing = forms.ChoiceField(choices=Bucketing.choices)
    value_type = forms.ChoiceField(
        choices=ValueType.choices,
        label="Value type",
        help_text="What each variant serves through featureflags.value(): boolean needs no values.",
    )
    environments = forms.CharField(
        required=False, help_text="Comma-separated environment names; empty means every environment."
    )
    start_at = forms.DateTimeField(
        required=False, input_formats=DATETIME_FORMATS, widget=DateTimeLocalInput(), help_text="UTC; empty: now."
    )
    end_at = forms.DateTimeField(
        required=False, input_formats=DATETIME_FORMATS, widget=DateTimeLocalInput(), help_text="UTC; empty: forever."
    )
    error_threshold = forms.IntegerField(
        min_value=0, required=False, help_text="Errors in the window that turn the flag off; empty: none."
    )
    error_window_seconds = forms.IntegerField(min_value=1, help_text="Seconds.")
    performance_baseline = forms.FloatField(required=False, help_text="Expected latency in seconds.")
    performance_threshold = forms.IntegerField(
        min_value=0, required=False, help_text="Percent above the baseline that turns the flag off."
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, strip=False)
    owner = forms.CharField(max_length=200, required=False)
    tags = forms.CharField(required=False, help_text="Comma-separated.")
    kind = forms.ChoiceField(choices=FlagKind.choices)
    client_side = forms.BooleanField(
        required=False,
        label="Client-side",
        help_text="Shown to browsers by the client endpoint and featureflags.js (evaluated, never its rules).",
    )
    expected_lifetime_days = forms.IntegerField(min_value=0, required=False, help_text="For stale-flag reports.")
    pinned_variants = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="One 'user id = variant' a line, for QA and support.",
    )

    def clean_loaded(self) -> dict[str, Any]:
        try:
            loaded = json.loads(self.cleaned_data["loaded"])
        except ValueError:
            raise ValidationError("The page was damaged; reload it.")
        if not isinstance(loaded, dict):
            raise ValidationError("The page was damaged; reload it.")
        return loaded

    def clean_description(self) -> str:
        # Browsers send a textarea's line breaks as CRLF: keep the stored text unchanged.
        return self.cleaned_data["description"].replace("\r\n", "\n")

    def clean_pinned_variants(self) -> dict[str, str]:
        pins: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data["pinned_variants"].splitlines(), start=1):
            if not line.strip():
                continue
            user_id, sep, variant = line.partition("=")
            if not sep or not user_id.strip() or not variant.strip():
                raise ValidationError(f"Line {number}: write 'user id = variant'.")
            pins[user_id.strip()] = variant.strip()
        return pins

    def state(self) -> dict[str, Any]:
        """The cleaned data as service-layer fields."""
        data = self.cleaned_data
        # Fields whose cleaned value is already the service's; the others are converted below.
        converted = ("salt", "environments", "tags", "start_at", "end_at")
        state = {name: data[name] for name in self.fields if name in EDITABLE_FIELDS and name not in converted}
        state["salt"] = data["salt"] or ""
        state["environments"] = split_words(data["environments"])
        state["tags"] = split_words(data["tags"])
        for name in ("start_at", "end_at"):
            state[name] = data[name].isoformat() if data[name] else None
        return state

    @staticmethod
    def initial_from(state: dict[str, Any]) -> dict[str, Any]:
        """Form initial data from a flag's state (``serialization.flag_state``)."""
        initial = {name: state.get(name) for name in FlagForm.base_fields if name in state}
        initial["environments"] = ", ".join(state.get("environments") or [])
        initial["tags"] = ", ".join(state.get("tags") or [])
        initial["pinned_variants"] = "\n".join(f"{u} = {v}" for u, v in (state.get("pinned_variants") or {}).items())
        for name in ("start_at", "end_at"):  # datetime-local shows datetimes, not ISO strings with offsets
            value = state.get(name)
            initial[name] = timezone.localtime(parse_datetime(value)) if isinstance(value, str) else value
        initial["loaded"] = json.dumps(state)
        return initial


class VariantForm(forms.Form):
    name = forms.CharField(max_length=100)
    weight = forms.IntegerField(min_value=0, max_value=100)
    value = forms.CharField(
        required=False,
        strip=False,
        label="Value",
        help_text="Of the value type: text for a string, 2.5 for a number, JSON for json; empty for boolean.",
    )


class BaseVariantFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        weights = [f.cleaned_data["weight"] for f in kept_rows(self)]
        if weights and sum(weights) != 100:
            raise ValidationError(f"The weights add up to {sum(weights)}; they must add up to 100.")

    def state(self) -> list[dict[str, Any]]:
        value_type = self.data.get("value_type") or "boolean"  # the flag form's field, in the same POST
        return [_typed(row, value_type) for row in rows_state("variants", kept_rows(self))]


def _typed(variant: dict[str, Any], value_type: str) -> dict[str, Any]:
    """A row's typed text as the value: a string flag's as written, others' as JSON (text that is not
    JSON stays text, so the service's message names the field); empty means none."""
    raw = variant.pop("value", "")
    if raw == "":
        return variant
    if value_type == "string":
        return {**variant, "value": raw}
    try:
        return {**variant, "value": json.loads(raw)}
    except ValueError:
        return {**variant, "value": raw}


def _value_text(value: Any, value_type: str) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) and value_type == "string" else json.dumps(value)


class ConstraintForm(forms.Form):
    attribute = forms.CharField(max_length=100)
    # A blank first choice keeps an untouched extra row unchanged (and ignored).
    operator = forms.ChoiceField(choices=[("", "—")] + [(o, o) for o in sorted(OPERATORS)])
    values = forms.CharField(required=False, help_text="Comma-separated.")
    inverted = forms.BooleanField(required=False)
    case_insensitive = forms.BooleanField(required=False)


class BaseConstraintFormSet(forms.BaseFormSet):
    def state(self) -> list[dict[str, Any]]:
        return rows_state("constraints", kept_rows(self))


class PrerequisiteForm(forms.Form):
    key = forms.CharField(max_length=100, label="Flag", widget=forms.TextInput(attrs={"list": "flag-keys"}))
    variant = forms.CharField(max_length=100, required=False, help_text="Optional: a variant it must serve.")


class BasePrerequisiteFormSet(forms.BaseFormSet):
    def state(self) -> list[dict[str, Any]]:
        return rows_state("prerequisites", kept_rows(self))


VariantFormSet = formset_factory(VariantForm, formset=BaseVariantFormSet, extra=1, can_delete=True)
ConstraintFormSet = formset_factory(ConstraintForm, formset=BaseConstraintFormSet, extra=1, can_delete=True)
PrerequisiteFormSet = formset_factory(PrerequisiteForm, formset=BasePrerequisiteFormSet, extra=1, can_delete=True)
FORMSETS = {"variants": VariantFormSet, "constraints": ConstraintFormSet, "prerequisites": PrerequisiteFormSet}


def formset_initial(state: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        "variants": [
            {**v, "value": _value_text(v.get("value"), state.get("value_type", "boolean"))}
            for v in state.get("variants", [])
        ],
        "constraints": [
            {**c, "values": ", ".join(str(v) for v in c.get("values", []))} for c in state.get("constraints", [])
        ],
        "prerequisites": [{"key": p["key"], "variant": p.get("variant", "")} for p in state.get("prerequisites", [])],
    }


class ExplainForm(forms.Form):
    user_id = forms.CharField(max_length=255, required=False, label="User id")
    attributes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "region = US\napp_version = 2.1.0"}),
        required=False,
        help_text="One 'name = value' a line; numbers, true/false and [lists] are read as JSON.",
    )
    environment = forms.CharField(max_length=100, required=False, help_text="Empty: this site's environment.")

    def clean_attributes(self) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        for number, line in enumerate(self.cleaned_data["attributes"].splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, raw = line.partition("=")
            if not sep or not name.strip():
                raise ValidationError(f"Line {number}: write 'name = value'.")
            raw = raw.strip()
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
            attributes[name.strip()] = value
        return attributes
