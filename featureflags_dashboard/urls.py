"""The operator dashboard, mounted at ``/flags/`` by the site's urls."""

from django.urls import path

from . import experiments
from .views import explain, flags, history, rules, stale, users

app_name = "featureflags_dashboard"

urlpatterns = [
    path("", flags.flag_list, name="list"),
    path("new/", flags.flag_create, name="create"),
    path("stale/", stale.stale_list, name="stale"),
    path("experiments/", experiments.experiment_list, name="experiments"),
    path("<str:key>/experiment/", experiments.experiment_detail, name="experiment"),
    path("<str:key>/experiment/<str:kind>.csv", experiments.experiment_export, name="experiment_export"),
    # A flag's page lives under "settings/" so that flags called "new", "stale" or "experiments"
    # still have one; "/flags/<key>/" redirects there for every other key.
    path("<str:key>/settings/", flags.flag_detail, name="detail"),
    path("<str:key>/", flags.flag_short_url, name="detail_short"),
    path("<str:key>/switch/", flags.flag_switch, name="switch"),
    path("<str:key>/users/", users.user_list, name="users"),
    path("<str:key>/users/upload/", users.user_upload, name="users_upload"),
    path("<str:key>/users/download/", users.user_download, name="users_download"),
    path("<str:key>/rules/", rules.rule_list, name="rules"),
    path("<str:key>/rules/test/", rules.rule_test, name="rules_test"),
    path("<str:key>/explain/", explain.explain_view, name="explain"),
    path("<str:key>/history/", history.history_list, name="history"),
    path("<str:key>/history/<int:entry_id>/revert/", history.history_revert, name="revert"),
]
