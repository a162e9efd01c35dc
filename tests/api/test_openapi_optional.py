"""The OpenAPI pages are optional: without their settings they answer which lines to add."""

from __future__ import annotations


def test_without_drf_spectacular_the_pages_name_the_settings(admin_client, settings):
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if not a.startswith("drf_spectacular")]
    for url in ("/api/schema/", "/api/docs/"):
        response = admin_client.get(url)
        assert response.status_code == 501
        assert 'INSTALLED_APPS += ["drf_spectacular"]' in response.json()["detail"]
    assert '"drf_spectacular_sidecar"' in admin_client.get("/api/docs/").json()["detail"]


def test_without_the_schema_class_the_schema_names_it(admin_client, settings):
    settings.REST_FRAMEWORK = {k: v for k, v in settings.REST_FRAMEWORK.items() if k != "DEFAULT_SCHEMA_CLASS"}
    response = admin_client.get("/api/schema/")
    assert response.status_code == 501
    assert '"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"' in response.json()["detail"]


def test_configured_pages_are_served(admin_client):
    assert admin_client.get("/api/schema/?format=json").json()["openapi"].startswith("3.")
    assert admin_client.get("/api/docs/").status_code == 200
