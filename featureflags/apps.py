from django.apps import AppConfig


class FeatureFlagsConfig(AppConfig):
    name = "featureflags"
    verbose_name = "Feature flags"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        from .store import checks as store_checks  # noqa: F401  (W010: a Redis shared by deployments)
