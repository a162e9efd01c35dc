from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "featureflags.experiments"
    label = "featureflags_experiments"
    verbose_name = "Feature flag experiments"
    default_auto_field = "django.db.models.BigAutoField"
