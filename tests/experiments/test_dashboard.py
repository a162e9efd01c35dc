"""The dashboard's experiment pages: permissions, Redis trouble, feedback, escaping."""

from __future__ import annotations

import pytest

import featureflags
from featureflags import services
from featureflags.experiments import flusher
from featureflags.experiments.models import Feedback

pytestmark = pytest.mark.django_db


def test_staff_only(client):
    response = client.get("/flags/experiments/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_list_shows_flags_with_variants(viewer_client):
    services.create_flag("checkout", variants=[{"name": "A", "weight": 1}, {"name": "B", "weight": 1}], actor="t")
    services.create_flag("plain", actor="t")
    html = viewer_client.get("/flags/experiments/").content.decode()
    assert 'data-flag="checkout"' in html and 'data-flag="plain"' not in html
    assert "/flags/checkout/experiment/" in html


def test_without_redis_the_page_still_shows_feedback(viewer_client):
    services.create_flag("checkout", variants=[{"name": "A", "weight": 1}, {"name": "B", "weight": 1}], actor="t")
    Feedback.objects.create(flag_key="checkout", unit="7", variant="B", enabled=True, rating=5, text="<b>great</b>")
    response = viewer_client.get("/flags/checkout/experiment/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-unavailable" in html and "REDIS_URL" in html
    assert "&lt;b&gt;great&lt;/b&gt;" in html and "<b>great</b>" not in html
    assert 'aria-current="page">Experiment &amp; feedback' in html
    csv = viewer_client.get("/flags/checkout/experiment/feedback.csv")
    assert b"".join(csv.streaming_content).decode().splitlines()[1].endswith(",7,B,True,5,<b>great</b>")
    assert viewer_client.get("/flags/checkout/experiment/exposures.csv").status_code == 503
    assert viewer_client.get("/flags/checkout/experiment/other.csv").status_code == 404
    assert viewer_client.get("/flags/nope/experiment/").status_code == 404


def test_a_flag_without_variants(viewer_client):
    services.create_flag("plain", actor="t")
    html = viewer_client.get("/flags/plain/experiment/").content.decode()
    assert "no variants" in html


@pytest.mark.redis
def test_redis_down_never_breaks_the_page(viewer_client, settings, experiments):
    services.create_flag("checkout", variants=[{"name": "A", "weight": 1}, {"name": "B", "weight": 1}], actor="t")
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "REDIS_URL": "redis://127.0.0.1:1/0", "REDIS_TIMEOUT": 0.1}
    response = viewer_client.get("/flags/checkout/experiment/")
    assert response.status_code == 200
    assert "Redis cannot be read" in response.content.decode()


@pytest.mark.redis
def test_hostile_variant_names_are_escaped(viewer_client, experiments, make_experiment):
    make_experiment("xss", variants=(("<script>alert(1)</script>", 1), ('"><img src=x>', 1)))
    for unit in map(str, range(30)):
        featureflags.variant("xss", unit)
    featureflags.track("purchase", "1")
    flusher.flush()
    html = viewer_client.get("/flags/xss/experiment/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert '"><img src=x>' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Too early to call" in html and "data-warning" in html  # 30 units is a small sample


def test_experiment_pages_without_the_experiments_app_say_what_to_add(settings, db, client):
    from featureflags import services
    from tests.dashboard.conftest import make_operator

    services.create_flag("checkout", variants=[{"name": "a", "weight": 50}, {"name": "b", "weight": 50}])
    client.force_login(make_operator("viewer", "view_flag"))
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "featureflags.experiments"]
    for url in ("/flags/checkout/experiment/", "/flags/checkout/experiment/feedback.csv"):
        html = client.get(url).content.decode()
        assert "Experiments is not installed" in html
        assert "INSTALLED_APPS += [&quot;featureflags.experiments&quot;]" in html
