"""Flags fully on or fully off, unchanged for a number of days: candidates for removal."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from featureflags import hygiene
from featureflags.editing import state_of

from ..permissions import can_view, staff_required
from .common import page

DEFAULT_DAYS = 30


@staff_required(can_view)
def stale_list(request: HttpRequest) -> HttpResponse:
    try:
        days = max(0, int(request.GET.get("days", DEFAULT_DAYS)))
    except ValueError:
        days = DEFAULT_DAYS
    rows = [(item, *state_of(item.flag)) for item in hygiene.stale_flags(days)]
    return page(request, "featureflags_dashboard/stale.html", {"nav": "stale", "rows": rows, "days": days})
