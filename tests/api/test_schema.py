"""The OpenAPI schema, Swagger UI with local assets, and a bounded schemathesis run."""

from __future__ import annotations

import json
import uuid

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error

from config.wsgi import application
from featureflags import secure_hash, services
from featureflags.api.models import ApiToken
from featureflags.models import Flag


def _load_schema():
    # Generated in-process: /api/schema/ itself needs a token, and the database is not open at collection.
    document = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = application
    return loaded


schema = _load_schema()


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
        "/api/flags/{key}/restore/",
        "/api/ofrep/v1/evaluate/flags",
        "/api/ofrep/v1/evaluate/flags/{key}",
    ):
        assert path in paths


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/schema/?format=json", "/api/docs/"])
def test_schema_and_docs_need_authentication(url, client_for, django_user_model, settings):
    assert APIClient().get(url).status_code == 401
    assert client_for("evaluate").get(url).status_code == 403  # a public key does not read the API's shape
    plain = APIClient()
    plain.force_login(django_user_model.objects.create_user("plain", password="pw"))
    assert plain.get(url).status_code == 403
    assert client_for("read").get(url).status_code == 200
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "PUBLIC_API_SCHEMA": True}
    assert APIClient().get(url).status_code == 200


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
    elif not Flag.objects.filter(key="fuzz").exists():
        services.restore_flag("fuzz", actor="test")  # a generated DELETE archived it
    if case.path_parameters and "key" in case.path_parameters:
        case.path_parameters["key"] = "fuzz"  # a real flag, so the generated bodies reach the service layer
    _token, secret = ApiToken.objects.issue(f"fuzz-{uuid.uuid4().hex[:8]}", "write")
    response = case.call(headers={"Authorization": f"Bearer {secret}"})
    case.validate_response(response, checks=[not_a_server_error])


@pytest.mark.slow
@schema.include(path_regex=r"^/api/(flags/(client|evaluate)|ofrep/v1/evaluate/flags(/\{key\})?)$").parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_public_endpoints_no_server_errors(case, db, keep_connection):
    """The public endpoints with a public key, signed or not: never a 5xx, and never a reason."""
    services.create_flag(f"pub-{uuid.uuid4().hex[:6]}", enabled=True, client_side=True, actor="test")
    _token, secret = ApiToken.objects.issue(f"fuzz-{uuid.uuid4().hex[:8]}", "evaluate")
    if isinstance(case.query, dict) and case.query.get("user_id") and len(case.query) % 2:
        case.query["user_hash"] = secure_hash(case.query["user_id"])  # half signed, half not
    response = case.call(headers={"Authorization": f"Bearer {secret}"})
    case.validate_response(response, checks=[not_a_server_error])
    if response.status_code == 200 and case.method == "POST" and case.path.startswith("/api/ofrep/"):
        # OFREP's answer has an OpenFeature reason, but never the product's own (nor a rule) for a public key.
        body = response.json()
        assert all(result.get("metadata") == {} for result in body.get("flags", [body])), body
    elif response.status_code == 200 and case.method in ("GET", "POST"):
        assert all("reason" not in result for result in response.json()["flags"].values())


def services_flag_exists(key: str) -> bool:
    return Flag.all_objects.filter(key=key).exists()
