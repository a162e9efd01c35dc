"""``schema/`` and ``docs/``: drf-spectacular's OpenAPI views when the project set it up
(authenticated unless ``FEATUREFLAGS["PUBLIC_API_SCHEMA"]`` opens them),
else an answer naming the settings to add (never an ImportError at startup or a 500)."""

from __future__ import annotations

from django.apps import apps
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.http import require_safe
from rest_framework.settings import api_settings

from .permissions import SchemaAccess

SCHEMA_CLASS = "drf_spectacular.openapi.AutoSchema"


def missing_settings(docs: bool = False) -> list[str]:
    """The settings lines the OpenAPI pages still need (empty when they can be served)."""
    missing = []
    if not apps.is_installed("drf_spectacular"):
        missing.append('INSTALLED_APPS += ["drf_spectacular"]  # pip install "featureflags[api]"')
    else:
        schema_class = api_settings.DEFAULT_SCHEMA_CLASS
        if not issubclass(schema_class, import_string(SCHEMA_CLASS)):
            missing.append(f'REST_FRAMEWORK = {{..., "DEFAULT_SCHEMA_CLASS": "{SCHEMA_CLASS}"}}')
    if docs and not apps.is_installed("drf_spectacular_sidecar"):
        # Swagger UI's assets from this site, not a CDN.
        missing.append('INSTALLED_APPS += ["drf_spectacular_sidecar"]  # pip install "featureflags[api]"')
    return missing


def _not_configured(missing: list[str]) -> HttpResponse:
    detail = "The OpenAPI schema and docs are optional; to serve them add to settings.py: " + " ; ".join(missing)
    return JsonResponse({"error": "not_configured", "detail": detail, "missing": missing}, status=501)


@require_safe  # read-only: other methods are 405 before any authentication
def schema_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    missing = missing_settings()
    if missing:
        return _not_configured(missing)
    from drf_spectacular.views import SpectacularAPIView  # optional: imported once configured

    return SpectacularAPIView.as_view(permission_classes=[SchemaAccess])(request, *args, **kwargs)


@require_safe
def docs_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    missing = missing_settings(docs=True)
    if missing:
        return _not_configured(missing)
    from drf_spectacular.views import SpectacularSwaggerView

    return SpectacularSwaggerView.as_view(url_name="featureflags_api:schema", permission_classes=[SchemaAccess])(
        request, *args, **kwargs
    )
