"""The two views of the load test: ten flag checks, and the same page without them."""

from django.http import HttpResponse
from django.urls import path

import featureflags

FLAG_KEYS = [f"load_{i}" for i in range(10)]
PAGE = "<!doctype html><title>load</title><ul>{}</ul>"


def with_flags(request):
    items = "".join(f"<li>{key}: {featureflags.is_enabled(key, request)}</li>" for key in FLAG_KEYS)
    return HttpResponse(PAGE.format(items))


def without_flags(request):
    items = "".join(f"<li>{key}: {False}</li>" for key in FLAG_KEYS)
    return HttpResponse(PAGE.format(items))


urlpatterns = [path("flags/", with_flags), path("plain/", without_flags)]
