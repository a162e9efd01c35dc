"""Helpers every dashboard page uses."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from featureflags.models import Flag, Source
from featureflags.serialization import with_relations

from ..permissions import permissions_context

SOURCE = Source.DASHBOARD


def page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """Render a dashboard page with the operator's permissions in the context."""
    return render(request, template, {**permissions_context(request.user), **context}, status=status)


def actor(request: HttpRequest) -> str:
    return request.user.get_username()


def get_flag(key: str, relations: bool = False) -> Flag:
    queryset = with_relations(Flag.objects) if relations else Flag.objects
    try:
        return queryset.get(key=key)
    except Flag.DoesNotExist:
        raise Http404(f"No flag is called {key!r}.")


def querystring(request: HttpRequest) -> str:
    """The current filters, without the page number (for pager links)."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def posted_version(request: HttpRequest) -> int | None:
    """The ``version`` a form posted (the one the page showed), None if absent; BadRequest (a 400) if not a number."""
    raw = (request.POST.get("version") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 10:
        raise BadRequest(f"version: {raw[:20]!r} is not a version number. Reload the page and try again.")
    return int(raw)
