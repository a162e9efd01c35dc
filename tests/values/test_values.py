"""Typed values end to end: written through the services, stored, published, served by
``featureflags.value()`` (issue 14, ``spec/evaluation.md``: ``value_type``, variant values)."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

import featureflags
from featureflags import services
from featureflags.engine import Reason
from featureflags.models import AuditEntry, Flag, Variant
from featureflags.store import database
from featureflags.testing import override_flag

pytestmark = pytest.mark.django_db

LAYOUTS = [
    {"name": "single", "weight": 1, "value": "single_page"},
    {"name": "two", "weight": 1, "value": "two_step"},
]


def layout_flag(**fields):
    return services.create_flag("checkout_layout", enabled=True, value_type="string", variants=LAYOUTS, **fields)


def test_a_string_flag_serves_each_users_variant_value():
    layout_flag()
    served = {featureflags.value("checkout_layout", str(user)) for user in range(200)}
    assert served == {"single_page", "two_step"}
    for user in ("1", "2", "3", "17"):
        decision = featureflags.evaluate("checkout_layout", user)
        expected = {"single": "single_page", "two": "two_step"}[decision.variant]
        assert featureflags.value("checkout_layout", user) == decision.value == expected


def test_off_or_unknown_gives_the_default():
    layout_flag()
    services.set_enabled("checkout_layout", False)
    assert featureflags.value("checkout_layout", "42", default="fallback") == "fallback"
    assert featureflags.value("no_such_flag", "42", default=7) == 7
    assert featureflags.value("no_such_flag", "42") is None


def test_a_boolean_flag_without_values_serves_true_when_on():
    services.create_flag("new_ui", enabled=True)
    assert featureflags.value("new_ui", "42", default=False) is True
    services.set_enabled("new_ui", False)
    assert featureflags.value("new_ui", "42", default=False) is False


@pytest.mark.parametrize(
    ("value_type", "values"),
    [("number", [0.25, 10]), ("json", [{"columns": 2, "items": ["a"]}, [1, 2]]), ("boolean", [True, False])],
)
def test_each_type_round_trips_through_the_database_and_the_store(value_type, values):
    variants = [{"name": f"v{i}", "weight": 1, "value": v} for i, v in enumerate(values)]
    services.create_flag("typed", enabled=True, value_type=value_type, variants=variants)
    flag = Flag.objects.get(key="typed")
    assert flag.value_type == value_type
    assert [v.value for v in Variant.objects.filter(flag=flag)] == values
    definition = database.definitions(["typed"])["typed"]
    assert definition["value_type"] == value_type
    assert [v["value"] for v in definition["variants"]] == values
    served = {json.dumps(featureflags.value("typed", str(user)), sort_keys=True) for user in range(100)}
    assert served == {json.dumps(v, sort_keys=True) for v in values}  # jsonb keeps no key order


def test_the_audit_log_records_the_type_and_values():
    layout_flag()
    entry = AuditEntry.objects.get(flag_key="checkout_layout", action="create")
    assert entry.after["value_type"] == "string"
    assert [v["value"] for v in entry.after["variants"]] == ["single_page", "two_step"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"value_type": "text"}, "value_type"),
        (
            {"value_type": "string", "variants": [{"name": "a", "value": "x"}, {"name": "b", "value": 3}]},
            "variants.1.value",
        ),
        ({"value_type": "string", "variants": [{"name": "a"}]}, "variants.0.value"),
        ({"value_type": "number", "variants": [{"name": "a", "value": "3"}]}, "variants.0.value"),
        ({"value_type": "number", "variants": [{"name": "a", "value": True}]}, "variants.0.value"),
        ({"value_type": "boolean", "variants": [{"name": "a", "value": "yes"}]}, "variants.0.value"),
        ({"value_type": "json", "variants": [{"name": "a", "value": {"x": "a" * 70_000}}]}, "variants.0.value"),
    ],
)
def test_a_value_that_does_not_fit_the_type_is_refused_naming_the_field(fields, field):
    with pytest.raises(ValidationError) as excinfo:
        services.create_flag("typed", **fields)
    assert field in excinfo.value.message_dict
    assert not Flag.objects.filter(key="typed").exists()


def test_changing_the_type_revalidates_the_stored_values():
    layout_flag()
    with pytest.raises(ValidationError) as excinfo:
        services.update_flag("checkout_layout", {"value_type": "number"})
    assert set(excinfo.value.message_dict) == {"variants.0.value", "variants.1.value"}
    assert Flag.objects.get(key="checkout_layout").value_type == "string"
    numbers = [{"name": "single", "weight": 1, "value": 1}, {"name": "two", "weight": 1, "value": 2}]
    services.update_flag("checkout_layout", {"value_type": "number", "variants": numbers})
    assert {featureflags.value("checkout_layout", str(u)) for u in range(50)} == {1, 2}


def test_an_explicit_null_value_is_no_change():
    services.create_flag("new_ui", variants=[{"name": "a", "weight": 1}])
    version = Flag.objects.get(key="new_ui").version
    services.update_flag("new_ui", {"variants": [{"name": "a", "weight": 1, "value": None}]})
    assert Flag.objects.get(key="new_ui").version == version


def test_value_takes_attributes_and_a_pinned_variant():
    layout_flag(pinned_variants={"7": "two"}, constraints=[{"attribute": "region", "operator": "IN", "values": ["US"]}])
    assert featureflags.value("checkout_layout", "7", region="US") == "two_step"
    assert featureflags.value("checkout_layout", "7", default="none", region="FR") == "none"


def test_override_flag_serves_its_value_else_the_variants():
    layout_flag()
    with override_flag("checkout_layout", active=True, value="forced"):
        assert featureflags.value("checkout_layout", "42") == "forced"
        assert featureflags.evaluate("checkout_layout", "42").reason is Reason.OVERRIDE
    with override_flag("checkout_layout", active=True, variant="two"):
        assert featureflags.value("checkout_layout", "42") == "two_step"
    with override_flag("checkout_layout", active=False):
        assert featureflags.value("checkout_layout", "42", default="d") == "d"
    with override_flag("not_a_flag", active=True):
        assert featureflags.value("not_a_flag", "42") is True


def test_the_override_flags_fixture_takes_a_value(override_flags):
    override_flags("checkout_layout", value={"columns": 3})
    assert featureflags.value("checkout_layout", "42") == {"columns": 3}
