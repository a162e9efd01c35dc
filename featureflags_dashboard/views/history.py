"""A flag's audit log with before/after diffs, and one-click revert (itself audited)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from featureflags import services
from featureflags.editing import state_of
from featureflags.models import AuditEntry
from featureflags.serialization import EDITABLE_FIELDS

from ..changes import diff
from ..permissions import can_change, can_view, staff_required
from .common import SOURCE, actor, get_flag, page, posted_version

PER_PAGE = 25


def restorable(state) -> bool:
    """A full flag state (not a list-size record) can be put back."""
    return isinstance(state, dict) and all(name in state for name in EDITABLE_FIELDS)


@staff_required(can_view)
def history_list(request: HttpRequest, key: str) -> HttpResponse:
    flag = get_flag(key)
    entries = AuditEntry.objects.filter(flag_key=flag.key)
    page_obj = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "entry": e,
            "diff": diff(e.before, e.after),
            "restorable": restorable(e.after) and e.after.get("version") != flag.version,
        }
        for e in page_obj
    ]
    css, words = state_of(flag)
    return page(
        request,
        "featureflags_dashboard/history.html",
        {
            "nav": "flags",
            "tab": "history",
            "flag": flag,
            "state_css": css,
            "state_words": words,
            "rows": rows,
            "page_obj": page_obj,
        },
    )


@require_POST
@staff_required(can_change)
def history_revert(request: HttpRequest, key: str, entry_id: int) -> HttpResponse:
    """Put the flag back as it was right after ``entry_id``."""
    flag = get_flag(key)
    entry = AuditEntry.objects.filter(pk=entry_id, flag_key=flag.key).first()
    if entry is None or not restorable(entry.after):
        raise Http404("No such state to restore.")
    try:
        restored = services.restore_state(
            key,
            entry.after,
            expected_version=posted_version(request) or 0,
            actor=actor(request),
            source=SOURCE,
            note=f"revert to version {entry.after.get('version')} (audit entry {entry.pk})",
        )
    except services.FlagConflict as exc:
        messages.error(request, f"Not reverted: {exc} Look at the newest entries first.")
    except ValidationError as exc:
        messages.error(request, "Not reverted: " + " ".join(exc.messages))
    else:
        if restored.version == flag.version:
            messages.info(request, f"{key} is already as it was at version {entry.after.get('version')}.")
        else:
            messages.success(
                request, f"{key} is back to version {entry.after.get('version')} (saved as version {restored.version})."
            )
    return redirect("featureflags_dashboard:history", key=key)
