"""featureflags.editing: what the admin's and the dashboard's forms mean to the service layer."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory

from featureflags import services
from featureflags.editing import filter_by_state, kept_rows, place_errors, rows_state, state_of
from featureflags.models import Flag


class ScalarForm(forms.Form):
    percentage = forms.IntegerField()
    version = forms.IntegerField(widget=forms.HiddenInput)


class VariantRow(forms.Form):
    name = forms.CharField()
    weight = forms.IntegerField()


VariantRows = formset_factory(VariantRow, extra=1, can_delete=True)


def _variants(*rows: tuple[str, int, bool]):
    data = {"v-TOTAL_FORMS": str(len(rows) + 1), "v-INITIAL_FORMS": "0"}
    for i, (name, weight, delete) in enumerate(rows):
        data.update({f"v-{i}-name": name, f"v-{i}-weight": str(weight)})
        if delete:
            data[f"v-{i}-DELETE"] = "on"
    formset = VariantRows(data, prefix="v")
    assert formset.is_valid()
    return formset


def test_state_filter_and_label(db):
    services.create_flag("on", enabled=True)
    services.create_flag("partial", enabled=True, percentage=30)
    services.create_flag("off")
    keys = {
        state: sorted(filter_by_state(Flag.objects.all(), state).values_list("key", flat=True))
        for state in ("on", "partial", "off", "", None, "bogus")
    }
    assert keys == {
        "on": ["on"],
        "partial": ["partial"],
        "off": ["off"],
        "": ["off", "on", "partial"],
        None: ["off", "on", "partial"],
        "bogus": ["off", "on", "partial"],
    }
    assert [state_of(f) for f in Flag.objects.order_by("key")] == [
        ("off", "OFF"),
        ("on", "ON"),
        ("partial", "ON · 30 %"),
    ]


def test_kept_rows_skip_deleted_and_empty_rows():
    formset = _variants(("a", 50, False), ("gone", 10, True), ("b", 50, False))
    assert rows_state("variants", kept_rows(formset)) == [{"name": "a", "weight": 50}, {"name": "b", "weight": 50}]


def test_errors_land_on_the_kept_row_the_service_names():
    formset = _variants(("gone", 10, True), ("a", 50, False), ("b", 50, False))
    form = ScalarForm({"percentage": "5", "version": "1"})
    assert form.is_valid()
    error = ValidationError(
        {
            "variants.1.weight": ["Too heavy."],  # the second KEPT row: "b", not the deleted one
            "variants": ["The weights add up to 100?"],
            "percentage": ["Out of range."],
            "version": ["Hidden: no home on the page."],
        }
    )
    leftover = place_errors(error, form, {"variants": formset})
    assert formset.forms[2].errors == {"weight": ["Too heavy."]}
    assert not formset.forms[1].errors
    assert form.errors["percentage"] == ["Out of range."]
    assert leftover == {"variants": ["The weights add up to 100?"], "": ["version: Hidden: no home on the page."]}
