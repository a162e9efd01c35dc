"""Mounted under ``api/``: ``path("api/", include("featureflags.api.urls"))``.

``flags/evaluate``, ``flags/client`` and ``flags/audit`` have no trailing slash,
so a flag may be called ``evaluate`` (``flags/evaluate/``) without a clash.
"""

from django.urls import path

from . import client, ofrep, openapi, views

app_name = "featureflags_api"

urlpatterns = [
    path("flags/", views.FlagListView.as_view(), name="flag-list"),
    path("flags/evaluate", views.EvaluateView.as_view(), name="evaluate"),
    path("flags/client", client.ClientFlagsView.as_view(), name="client"),
    path("flags/audit", views.AuditView.as_view(), name="audit"),
    path("flags/<str:key>/", views.FlagDetailView.as_view(), name="flag-detail"),
    path("flags/<str:key>/restore/", views.FlagRestoreView.as_view(), name="flag-restore"),
    path("flags/<str:key>/users/", views.FlagUsersView.as_view(), name="flag-users"),
    path("flags/<str:key>/users/remove/", views.FlagUsersRemoveView.as_view(), name="flag-users-remove"),
    path("flags/<str:key>/users/count/", views.FlagUsersCountView.as_view(), name="flag-users-count"),
    path("flags/<str:key>/rules/", views.RulesView.as_view(), name="flag-rules"),
    path("flags/<str:key>/variants/", views.VariantsView.as_view(), name="flag-variants"),
    path("flags/<str:key>/constraints/", views.ConstraintsView.as_view(), name="flag-constraints"),
    # OpenFeature's remote evaluation protocol: a provider's base URL is this API's root (see ofrep.py).
    path("ofrep/v1/evaluate/flags", ofrep.OfrepBulkView.as_view(), name="ofrep-bulk"),
    path("ofrep/v1/evaluate/flags/<str:key>", ofrep.OfrepFlagView.as_view(), name="ofrep-flag"),
    path("schema/", openapi.schema_view, name="schema"),  # drf-spectacular, when set up (see openapi.py)
    path("docs/", openapi.docs_view, name="docs"),
]
