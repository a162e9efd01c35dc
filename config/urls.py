from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("demo/cdc/", views.demo_cdc, name="demo_cdc"),
    path("demo/template/", views.demo_template, name="demo_template"),
    path("demo/sticky/", views.demo_sticky, name="demo_sticky"),
    path("flags/", include("featureflags_dashboard.urls")),
    path("api/experiments/", include("featureflags.experiments.urls")),
    path("api/", include("featureflags.api.urls")),
    path("flags-health/", include("featureflags.health")),
]
