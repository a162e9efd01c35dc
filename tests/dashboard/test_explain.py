"""Explain: the decision, the variant and every step, for an id and attributes."""

from __future__ import annotations

from django.urls import reverse

from featureflags import services
from featureflags.engine import Reason
from featureflags.store import runtime


def explain(client, key, **params):
    response = client.get(reverse("featureflags_dashboard:explain", args=[key]), params)
    assert response.status_code == 200
    return response.context["explanation"], response


def test_explains_rules_constraints_and_variants(editor_client):
    services.create_flag(
        "f",
        enabled=True,
        rules=["01$"],
        constraints=[{"attribute": "region", "operator": "IN", "values": ["US"]}],
        variants=[{"name": "blue", "weight": 100}],
    )
    runtime.refresh()
    explanation, response = explain(editor_client, "f", user_id="443301")
    assert explanation.decision.reason is Reason.RULE and explanation.decision.variant == "blue"
    assert "blue" in response.content.decode()
    explanation, _ = explain(editor_client, "f", user_id="7", attributes="region = FR")
    assert explanation.decision.reason is Reason.NO_MATCH and not explanation.decision.enabled
    explanation, _ = explain(editor_client, "f", user_id="7", attributes='region = "US"')
    assert explanation.decision.enabled
    assert [s.name for s in explanation.steps][:2] == ["environment", "switch"]  # the contract's order (v2)


def test_no_user_is_the_global_question(editor_client):
    services.create_flag("f", enabled=True, percentage=0)
    runtime.refresh()
    explanation, _ = explain(editor_client, "f", user_id="")
    assert explanation.decision.reason is Reason.GLOBAL


def test_bad_attributes_are_a_field_error(editor_client):
    services.create_flag("f")
    _, response = explain(editor_client, "f", user_id="1", attributes="no equals sign")
    assert "attributes" in response.context["form"].errors
    assert response.context["explanation"] is None
