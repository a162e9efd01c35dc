"""CSV exports for API clients: Bearer tokens with the read scope, or a staff session."""

from __future__ import annotations

import pytest

import featureflags
from featureflags.api.models import ApiToken
from featureflags.experiments import flusher
from featureflags.experiments.models import Feedback

pytestmark = pytest.mark.django_db


def rows(response) -> list[str]:
    return b"".join(response.streaming_content).decode().splitlines()


@pytest.fixture
def read_token(db):
    return ApiToken.objects.issue("analyst", "read")[1]


@pytest.mark.redis
def test_exposures_and_conversions_with_a_read_token(client, experiments, make_experiment, read_token):
    make_experiment()
    served = {unit: featureflags.variant("checkout", unit) for unit in ("1", "2", "3")}
    featureflags.track("purchase", "2", value=12.5)
    featureflags.track("signup", "3")
    flusher.flush()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {read_token}"}
    exposures = rows(client.get("/api/experiments/checkout/exposures.csv", **auth))
    assert exposures[0] == "flag,unit,variant,first_exposed"
    day = flusher.today()
    expected = {f"checkout,{u},{v},{day[:4]}-{day[4:6]}-{day[6:]}" for u, v in served.items()}
    assert set(exposures[1:]) == expected
    conversions = rows(client.get("/api/experiments/checkout/conversions.csv", **auth))
    assert conversions[0] == "flag,goal,unit,variant,total_value"
    assert set(conversions[1:]) == {f"checkout,purchase,2,{served['2']},12.5", f"checkout,signup,3,{served['3']},0"}


def test_feedback_csv_quotes_formulas(client, read_token):
    Feedback.objects.create(flag_key="checkout", unit="7", variant="B", rating=2, text="=HYPERLINK(1)")
    response = client.get("/api/experiments/checkout/feedback.csv", HTTP_AUTHORIZATION=f"Bearer {read_token}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    (row,) = rows(response)[1:]
    assert row.endswith(",7,B,False,2,'=HYPERLINK(1)")


def test_who_may_export(client, django_user_model):
    url = "/api/experiments/checkout/feedback.csv"
    assert client.get(url).status_code == 401
    assert client.get(url, HTTP_AUTHORIZATION="Bearer ff_wrong").status_code == 401
    evaluate_only = ApiToken.objects.issue("browser", "evaluate")[1]
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {evaluate_only}").status_code == 403
    client.force_login(django_user_model.objects.create_user("joe", is_staff=False))
    assert client.get(url).status_code == 401
    from tests.dashboard.conftest import make_operator

    client.force_login(make_operator("nobody", staff=True))
    assert client.get(url).status_code == 403
    client.force_login(make_operator("ann", "view_flag"))
    assert client.get(url).status_code == 200
    assert client.get("/api/experiments/checkout/secrets.csv").status_code == 404


def test_without_redis_the_redis_exports_say_so(client, read_token):
    response = client.get("/api/experiments/checkout/exposures.csv", HTTP_AUTHORIZATION=f"Bearer {read_token}")
    assert response.status_code == 503
    assert "REDIS_URL" in response.json()["detail"]
