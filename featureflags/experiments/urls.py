"""Mounted at ``/api/experiments/`` by the site's urls."""

from django.urls import path

from . import views

app_name = "featureflags_experiments"

urlpatterns = [
    path("<str:key>/feedback/", views.feedback_post, name="feedback"),
    path("<str:key>/<str:kind>.csv", views.export_csv, name="export"),
]
