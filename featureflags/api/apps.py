from importlib.util import find_spec

from django.apps import AppConfig


class FeatureFlagsApiConfig(AppConfig):
    name = "featureflags.api"
    label = "featureflags_api"
    verbose_name = "Feature flags API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        if find_spec("drf_spectacular") is not None:  # optional: the OpenAPI pages say what they need
            from . import schema  # noqa: F401  registers the bearer scheme with drf-spectacular
