"""feedback(): stored with the variant the unit had; the form snippet and its POST."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.template import Context as TemplateContext
from django.template import Template
from django.test import RequestFactory

import featureflags
from featureflags.engine import Snapshot
from featureflags.experiments.models import Feedback
from featureflags.store import runtime

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkout():
    snapshot = Snapshot.from_definitions(
        [
            {
                "key": "checkout",
                "enabled": True,
                "variants": [{"name": "A"}, {"name": "B"}],
                "pinned_variants": {"7": "B"},
            }
        ]
    )
    runtime.install(snapshot)
    return snapshot


def test_feedback_is_stored_with_the_variant(checkout):
    entry = featureflags.feedback("checkout", "7", rating=4, text="  Faster!  ")
    entry.refresh_from_db()
    assert (entry.flag_key, entry.unit, entry.variant, entry.enabled, entry.rating, entry.text) == (
        "checkout",
        "7",
        "B",
        True,
        4,
        "Faster!",
    )


def test_feedback_on_an_off_or_unknown_flag(checkout):
    entry = featureflags.feedback("nope", "7", text="where is it?")
    assert (entry.variant, entry.enabled) == ("", False)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"key": "bad key"}, "key"),
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": True}, "rating"),
        ({"rating": "5"}, "rating"),
        ({"text": "x" * 5001}, "text"),
        ({"rating": None, "text": "   "}, "text"),
    ],
)
def test_bad_feedback_names_the_field(checkout, kwargs, field):
    arguments = {"key": "checkout", "rating": 3, "text": "", **kwargs}
    with pytest.raises(ValidationError) as caught:
        featureflags.feedback(arguments.pop("key"), "7", **arguments)
    assert field in caught.value.message_dict
    assert not Feedback.objects.exists()


def test_the_form_snippet_posts_with_csrf(checkout):
    request = RequestFactory().get("/shop/?step=2")
    template = Template('{% load featureflags_feedback %}{% feedback_form "checkout" "Like the new checkout?" %}')
    html = template.render(TemplateContext({"request": request, "csrf_token": "tok"}))
    assert 'action="/api/experiments/checkout/feedback/"' in html
    assert 'name="csrfmiddlewaretoken" value="tok"' in html
    assert 'name="next" value="/shop/?step=2"' in html
    assert "Like the new checkout?" in html
    assert html.count('type="radio" name="rating"') == 5


def test_posting_the_form(client, checkout, django_user_model):
    user = django_user_model.objects.create_user("7", password="pw")
    client.force_login(user)
    response = client.post("/api/experiments/checkout/feedback/", {"rating": "5", "text": "Love it", "next": "/shop/"})
    assert response.status_code == 302 and response["Location"] == "/shop/"
    entry = Feedback.objects.get()
    assert (entry.unit, entry.variant, entry.rating) == (str(user.pk), entry.variant, 5)
    assert entry.variant in ("A", "B")


def test_posting_json_and_errors(client, checkout):
    ok = client.post("/api/experiments/checkout/feedback/", {"text": "hi"}, HTTP_ACCEPT="application/json")
    assert ok.status_code == 201
    bad = client.post("/api/experiments/checkout/feedback/", {"rating": "9"}, HTTP_ACCEPT="application/json")
    assert bad.status_code == 400 and "rating" in bad.json()
    nan = client.post("/api/experiments/checkout/feedback/", {"rating": "x"}, HTTP_ACCEPT="application/json")
    assert nan.status_code == 400 and "rating" in nan.json()
    offsite = client.post("/api/experiments/checkout/feedback/", {"text": "hi", "next": "https://evil.example/"})
    assert offsite["Location"] == "/"
    assert Feedback.objects.count() == 2


def test_the_form_is_csrf_protected(checkout):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/api/experiments/checkout/feedback/", {"text": "hi"})
    assert response.status_code == 403
    assert not Feedback.objects.exists()


def test_feedback_under_override_flag(checkout):
    from featureflags.testing import override_flag

    with override_flag("checkout", variant="A"):
        entry = featureflags.feedback("checkout", "7", rating=3)
    assert entry.variant == "A"  # not the pinned B: the test forced A


def test_feedback_in_the_admin(admin_client):
    Feedback.objects.create(flag_key="checkout", unit="7", variant="B", rating=2, text="meh")
    response = admin_client.get("/admin/featureflags_experiments/feedback/")
    assert response.status_code == 200 and "meh" in response.content.decode()
