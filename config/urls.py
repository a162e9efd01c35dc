from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("flags/", include("dashboard.urls")),
    path("api/experiments/", include("featureflags.experiments.urls")),
    path("api/", include("featureflags.api.urls")),
]
