"""Typed values through the REST API: written with the flag, shown back, served by evaluate."""

from __future__ import annotations

import pytest

from featureflags.models import Flag
from featureflags.store import runtime

pytestmark = pytest.mark.django_db

LAYOUT = {
    "key": "checkout_layout",
    "enabled": True,
    "value_type": "json",
    "variants": [{"name": "single", "weight": 1, "value": {"steps": 1}}, {"name": "two", "value": {"steps": 2}}],
    "pinned_variants": {"42": "two"},
}


def test_create_read_and_evaluate_values(writer):
    response = writer.post("/api/flags/", LAYOUT, format="json")
    assert response.status_code == 201, response.json()
    body = writer.get("/api/flags/checkout_layout/").json()
    assert body["value_type"] == "json"
    assert [v["value"] for v in body["variants"]] == [{"steps": 1}, {"steps": 2}]
    runtime.refresh()
    context = {"user_id": "42"}
    flags = writer.post("/api/flags/evaluate", {"keys": ["checkout_layout"], "context": context}, format="json").json()
    assert flags["flags"]["checkout_layout"] == {
        "enabled": True,
        "variant": "two",
        "value": {"steps": 2},
        "reason": "DEFAULT",  # on for everyone; the pin chose the variant
        "rule": None,
    }


def test_the_variants_endpoint_replaces_values(writer):
    writer.post("/api/flags/", LAYOUT, format="json")
    version = Flag.objects.get(key="checkout_layout").version
    rows = [{"name": "two", "weight": 1, "value": [1, 2]}]
    response = writer.put("/api/flags/checkout_layout/variants/", {"version": version, "variants": rows}, format="json")
    assert response.status_code == 200, response.json()
    assert Flag.objects.get(key="checkout_layout").variants.get().value == [1, 2]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"value_type": "text"}, "value_type"),
        ({"value_type": "number", "variants": [{"name": "a", "value": "wide"}]}, "variants.0.value"),
        ({"value_type": "string", "variants": [{"name": "a"}]}, "variants.0.value"),
    ],
)
def test_a_wrong_value_is_a_400_naming_the_field(writer, body, field):
    response = writer.post("/api/flags/", {"key": "typed", **body}, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not Flag.objects.filter(key="typed").exists()
