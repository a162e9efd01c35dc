from django.apps import AppConfig


class FeatureFlagsApiConfig(AppConfig):
    name = "featureflags.api"
    label = "featureflags_api"
    verbose_name = "Feature flags API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import schema  # noqa: F401  registers the bearer scheme with drf-spectacular
