"""Views of the integration tests: each entry point, sync and async."""

from django.http import HttpResponse, JsonResponse
from django.template import engines
from django.urls import path
from django.views import View

import featureflags
from featureflags.decorators import FlagRequiredMixin, flag_required, flagged_path, variant_view


def page(request):
    return HttpResponse("page")


async def async_page(request):
    return HttpResponse("async page")


def old_page(request):
    return HttpResponse("old page")


def flags_view(request):
    return JsonResponse(
        {
            "attr": request.flags.new_ui,
            "item": request.flags["new-ui"],
            "variant": request.flags.variant("exp"),
            "api": featureflags.is_enabled("new_ui", request),
            "context": request._featureflags_context.as_dict(),
        }
    )


async def async_flags_view(request):
    from featureflags.context import current_context

    return JsonResponse(
        {
            "attr": request.flags.new_ui,
            "current": current_context.get().user_id,
            "variant": request.flags.variant("exp"),
        }
    )


def no_flags_view(request):
    return HttpResponse("nothing checked")


def template_view(request):
    source = '{% load featureflags %}{% if_feature "new_ui" %}on{% else %}off{% endif_feature %}'
    return HttpResponse(engines["django"].from_string(source).render({}, request))


class MixinView(FlagRequiredMixin, View):
    flag_key = "new_ui"

    def get(self, request):
        return HttpResponse("mixin")


class AsyncMixinView(FlagRequiredMixin, View):
    flag_key = "new_ui"
    flag_redirect_to = "/elsewhere/"

    async def get(self, request):
        return HttpResponse("async mixin")


def blue(request):
    return HttpResponse("blue")


def green(request):
    return HttpResponse("green")


async def async_blue(request):
    return HttpResponse("async blue")


async def async_green(request):
    return HttpResponse("async green")


urlpatterns = [
    path("required/", flag_required("new_ui")(page)),
    path("required-async/", flag_required("new_ui")(async_page)),
    path("redirect/", flag_required("new_ui", redirect_to="/elsewhere/")(page)),
    path("fallback/", flag_required("new_ui", fallback_view=old_page)(page)),
    path("flags/", flags_view),
    path("flags-async/", async_flags_view),
    path("nothing/", no_flags_view),
    path("template/", template_view),
    path("mixin/", MixinView.as_view()),
    path("mixin-async/", AsyncMixinView.as_view()),
    path("variant/", variant_view("exp", blue=blue, green=green, default=old_page)),
    path("variant-async/", variant_view("exp", blue=async_blue, green=async_green)),
    flagged_path("new_ui", "flagged/", page, name="flagged"),
]
