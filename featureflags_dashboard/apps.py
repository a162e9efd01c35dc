from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "featureflags_dashboard"
    verbose_name = "Flag dashboard"
