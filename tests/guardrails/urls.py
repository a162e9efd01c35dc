"""Views of the attribution tests."""

from django.http import Http404, HttpResponse
from django.urls import path

import featureflags


def uses_flags(request):
    featureflags.is_enabled("watched", request)
    featureflags.is_enabled("watched", request)  # twice: still one error
    featureflags.is_enabled("unwatched", request)
    featureflags.is_enabled("watched_off", request)
    if request.GET.get("fail") == "404":
        raise Http404("nothing here")
    if request.GET.get("fail"):
        raise RuntimeError("the new code broke")
    return HttpResponse("ok")


async def uses_flags_async(request):
    featureflags.is_enabled("watched", request)
    raise RuntimeError("the new async code broke")


def no_flags(request):
    raise RuntimeError("unrelated")


urlpatterns = [path("flags/", uses_flags), path("async/", uses_flags_async), path("plain/", no_flags)]
