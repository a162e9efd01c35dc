"""A flag's user lists: paginated, add and remove ids, upload a file of up to a million, download."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from featureflags import services
from featureflags.editing import state_of
from featureflags.models import FlagUser
from featureflags.serialization import user_count, user_ids

from ..permissions import can_change, can_view, staff_required
from .common import SOURCE, actor, get_flag, page, querystring

PER_PAGE = 50
MAX_UPLOAD_IDS = 1_000_000
HEADERS = {"user_id", "userid", "id", "user"}


def _which(request: HttpRequest) -> bool:
    """True for the excluded list."""
    return (request.POST.get("list") or request.GET.get("list")) == "excluded"


@staff_required(can_view)
def user_list(request: HttpRequest, key: str) -> HttpResponse:
    flag = get_flag(key)
    excluded = _which(request)
    if request.method == "POST":
        if not can_change(request.user):
            raise PermissionDenied("You may look at flags but not change them.")
        return _add_or_remove(request, flag.key, excluded)
    entries = FlagUser.objects.filter(flag=flag, excluded=excluded).order_by("user_id")
    query = request.GET.get("q", "").strip()
    if query:
        entries = entries.filter(user_id__icontains=query)
    page_obj = Paginator(entries.values_list("user_id", flat=True), PER_PAGE).get_page(request.GET.get("page"))
    css, words = state_of(flag)
    counts = {False: user_count(flag), True: user_count(flag, excluded=True)}
    return page(
        request,
        "featureflags_dashboard/users.html",
        {
            "nav": "flags",
            "tab": "users",
            "flag": flag,
            "state_css": css,
            "state_words": words,
            "excluded": excluded,
            "list_name": "excluded" if excluded else "users",
            "page_obj": page_obj,
            "q": query,
            "count": counts[excluded],
            "user_count": counts[False],
            "excluded_count": counts[True],
            "max_ids": MAX_UPLOAD_IDS,
            "querystring": querystring(request),
        },
    )


def _add_or_remove(request: HttpRequest, key: str, excluded: bool) -> HttpResponse:
    ids = [line for line in request.POST.get("ids", "").replace(",", "\n").splitlines() if line.strip()]
    action = request.POST.get("action", "add")
    back = reverse("featureflags_dashboard:users", args=[key]) + ("?list=excluded" if excluded else "")
    if not ids:
        messages.error(request, "Type at least one user id (one a line, or separated by commas).")
        return redirect(back)
    change = services.remove_users if action == "remove" else services.add_users
    try:
        changed = change(key, ids, excluded=excluded, actor=actor(request), source=SOURCE)
    except ValidationError as exc:
        messages.error(request, "Nothing was changed: " + " ".join(exc.messages))
    else:
        verb = "removed" if action == "remove" else "added"
        messages.success(request, f"{changed} id{'s' if changed != 1 else ''} {verb} ({len(ids)} given).")
    return redirect(back)


class TooManyIds(Exception):
    pass


def read_ids(uploaded, csv_file: bool) -> Iterator[str]:
    """Stream the ids of an uploaded text or CSV file (first column), checking each line as it comes."""
    lines = codecs.iterdecode(uploaded.chunks(), "utf-8-sig")
    text_lines = _split_lines(lines)
    rows: Iterable[list[str]] = csv.reader(text_lines) if csv_file else ([line] for line in text_lines)
    count = 0
    for number, row in enumerate(rows, start=1):
        raw = row[0] if row else ""
        if not raw.strip():
            continue  # blank lines are not ids
        if number == 1 and raw.strip().lower() in HEADERS:
            continue  # a header row
        count += 1
        if count > MAX_UPLOAD_IDS:
            raise TooManyIds()
        yield services.clean_user_id(raw, number)


def _split_lines(chunks: Iterable[str]) -> Iterator[str]:
    """Lines from decoded chunks, whatever their size; a line may span chunks."""
    rest = ""
    for chunk in chunks:
        rest += chunk
        lines = rest.splitlines(keepends=True)
        rest = lines.pop() if lines and not lines[-1].endswith(("\n", "\r")) else ""
        for line in lines:
            yield line.rstrip("\r\n")
    if rest:
        yield rest


@require_POST
@staff_required(can_change)
def user_upload(request: HttpRequest, key: str) -> HttpResponse:
    """Replace or extend a list from a file, all or nothing; JSON for the page's script, else a redirect."""
    flag = get_flag(key)
    excluded = _which(request)
    uploaded = request.FILES.get("file")
    back = reverse("featureflags_dashboard:users", args=[flag.key]) + ("?list=excluded" if excluded else "")
    error = message = None
    if uploaded is None:
        error = "Choose a file first."
    else:
        replace = request.POST.get("mode") == "replace"
        change = services.replace_users if replace else services.add_users
        try:
            ids = read_ids(uploaded, uploaded.name.lower().endswith(".csv"))
            changed = change(
                flag.key,
                ids,
                excluded=excluded,
                actor=actor(request),
                source=SOURCE,
                source_detail=f"upload {uploaded.name}"[:500],
            )
        except TooManyIds:
            error = f"Nothing was changed: the file holds more than {MAX_UPLOAD_IDS:,} ids."
        except UnicodeDecodeError:
            error = "Nothing was changed: the file is not UTF-8 text."
        except ValidationError as exc:
            error = "Nothing was changed: " + " ".join(exc.messages)
        else:
            total = user_count(flag, excluded)
            message = (
                f"The list now holds {total:,} ids."
                if replace
                else f"{changed:,} new ids added; the list now holds {total:,}."
            )
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        if error:
            return JsonResponse({"error": error}, status=400)
        messages.success(request, message)
        return JsonResponse({"message": message, "redirect": back})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, message)
    return redirect(back)


@staff_required(can_view)
def user_download(request: HttpRequest, key: str) -> StreamingHttpResponse:
    flag = get_flag(key)
    excluded = _which(request)
    lines = (f"{user_id}\n" for user_id in user_ids(flag, excluded))
    response = StreamingHttpResponse(lines, content_type="text/plain; charset=utf-8")
    name = f"{flag.key}-{'excluded' if excluded else 'users'}.txt"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
