"""The OpenAPI schema, Swagger UI with local assets, and a bounded schemathesis run."""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from config.wsgi import application
from featureflags import services
from featureflags.api.models import ApiToken

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


def test_schema_lists_every_endpoint(reader):
    paths = reader.get("/api/schema/?format=json").json()["paths"]
    for path in (
        "/api/flags/",
        "/api/flags/{key}/",
        "/api/flags/{key}/users/",
        "/api/flags/{key}/users/remove/",
        "/api/flags/{key}/users/count/",
        "/api/flags/{key}/rules/",
        "/api/flags/{key}/variants/",
        "/api/flags/{key}/constraints/",
        "/api/flags/audit",
        "/api/flags/evaluate",
        "/api/flags/client",
    ):
        assert path in paths


def test_swagger_ui_assets_are_served_locally(admin_client):
    page = admin_client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn." not in page and "unpkg" not in page


@pytest.fixture
def keep_connection():
    """Calls go straight to the WSGI app: keep Django from closing the test's connection after each
    one, as its test client does (a PostgreSQL test transaction would be lost)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case, db, keep_connection):
    """Every operation, a few generated requests each, with a write token: never a 5xx."""
    if not services_flag_exists("fuzz"):
        services.create_flag("fuzz", enabled=True, percentage=50, variants=["a", "b"], actor="test")
    if case.path_parameters and "key" in case.path_parameters:
        case.path_parameters["key"] = "fuzz"  # a real flag, so the generated bodies reach the service layer
    _token, secret = ApiToken.objects.issue(f"fuzz-{uuid.uuid4().hex[:8]}", "write")
    response = case.call(headers={"Authorization": f"Bearer {secret}"})
    case.validate_response(response, checks=[not_a_server_error])


def services_flag_exists(key: str) -> bool:
    from featureflags.models import Flag

    return Flag.objects.filter(key=key).exists()
