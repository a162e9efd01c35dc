"""The flag list, creating a flag, a flag's page, and its switch (the kill switch)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from featureflags import permissions as rules
from featureflags import services
from featureflags.editing import filter_by_state, place_errors, state_of
from featureflags.models import AuditEntry, Flag, FlagKind
from featureflags.serialization import flag_state, user_count
from featureflags.store import runtime

from ..changes import changed_fields, diff
from ..forms import FORMSETS, CreateFlagForm, FlagForm, formset_initial
from ..permissions import can_change, can_kill, can_view, staff_required
from .common import SOURCE, actor, get_flag, page, posted_version, querystring

PER_PAGE = 50


@staff_required(can_view)
def flag_list(request: HttpRequest) -> HttpResponse:
    flags = Flag.objects.all()
    query = request.GET.get("q", "").strip()
    if query:
        flags = flags.filter(Q(key__icontains=query) | Q(description__icontains=query) | Q(owner__icontains=query))
    state = request.GET.get("state", "")
    flags = filter_by_state(flags, state)
    kind = request.GET.get("kind", "")
    if kind in FlagKind.values:
        flags = flags.filter(kind=kind)
    owner = request.GET.get("owner", "")
    if owner:
        flags = flags.filter(owner=owner)
    tag = request.GET.get("tag", "")
    if tag:  # JSON lists: filtered here, portable across databases
        flags = flags.filter(pk__in=[pk for pk, tags in flags.values_list("pk", "tags") if tag in (tags or [])])
    last = AuditEntry.objects.filter(flag_key=OuterRef("key")).order_by("-at", "-id")
    flags = flags.annotate(
        last_at=Subquery(last.values("at")[:1]),
        last_actor=Subquery(last.values("actor")[:1]),
        last_action=Subquery(last.values("action")[:1]),
    )
    page_obj = Paginator(flags, PER_PAGE).get_page(request.GET.get("page"))
    rows = [(flag, *state_of(flag)) for flag in page_obj]
    all_tags = sorted({t for tags in Flag.objects.values_list("tags", flat=True) for t in (tags or [])})
    owners = sorted(set(Flag.objects.exclude(owner="").values_list("owner", flat=True)))
    return page(
        request,
        "featureflags_dashboard/flag_list.html",
        {
            "nav": "flags",
            "rows": rows,
            "page_obj": page_obj,
            "filters": {"q": query, "state": state, "kind": kind, "owner": owner, "tag": tag},
            "kinds": FlagKind.choices,
            "owners": owners,
            "tags": all_tags,
            "total": Flag.objects.count(),
            "querystring": querystring(request),
        },
    )


@staff_required(lambda user: rules.allowed(user, "create"))
def flag_create(request: HttpRequest) -> HttpResponse:
    form = CreateFlagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.create_flag(
                data["key"].strip(),
                actor=actor(request),
                source=SOURCE,
                kind=data["kind"],
                owner=data["owner"],
                description=data["description"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Flag {data['key']} created, switched off. Set it up, then switch it on.")
            return redirect("featureflags_dashboard:detail", key=data["key"].strip())
    return page(request, "featureflags_dashboard/flag_create.html", {"nav": "flags", "form": form})


def flag_short_url(request: HttpRequest, key: str) -> HttpResponse:
    return redirect("featureflags_dashboard:detail", key=key)


@staff_required(can_view)
def flag_detail(request: HttpRequest, key: str) -> HttpResponse:
    flag = get_flag(key, relations=True)
    current = flag_state(flag)
    conflict = None
    section_errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if not can_change(request.user):
            raise PermissionDenied("You may look at flags but not change them.")
        form = FlagForm(request.POST)
        formsets = {name: cls(request.POST, prefix=name) for name, cls in FORMSETS.items()}
        if form.is_valid() and all(fs.is_valid() for fs in formsets.values()):
            loaded = form.cleaned_data["loaded"]
            proposed = {**form.state(), **{name: fs.state() for name, fs in formsets.items()}}
            changes = changed_fields(loaded, proposed)
            try:
                if changes:
                    services.update_flag(
                        key,
                        changes,
                        expected_version=form.cleaned_data["version"],
                        actor=actor(request),
                        source=SOURCE,
                    )
            except services.FlagConflict as exc:
                now = {name: exc.current.get(name) for name in loaded}  # the fields the page showed
                conflict = {"diff": diff(loaded, now), "yours": diff(loaded, {**loaded, **changes})}
                flag = get_flag(key, relations=True)
                current = flag_state(flag)
            except ValidationError as exc:
                section_errors = place_errors(exc, form, formsets)
            else:
                if changes:
                    messages.success(request, f"Saved {key}: {', '.join(sorted(changes))}.")
                else:
                    messages.info(request, "Nothing changed.")
                return redirect("featureflags_dashboard:detail", key=key)
        if conflict is None:
            return _flag_page(request, flag, form, formsets, section_errors, status=400)
    initial = FlagForm.initial_from(current)
    form = FlagForm(initial=initial)
    formsets = {name: FORMSETS[name](initial=rows, prefix=name) for name, rows in formset_initial(current).items()}
    return _flag_page(request, flag, form, formsets, section_errors, conflict=conflict, status=409 if conflict else 200)


def _flag_page(request, flag, form, formsets, section_errors, conflict=None, status=200) -> HttpResponse:
    css, words = state_of(flag)
    other_flags = list(Flag.objects.exclude(pk=flag.pk).values_list("key", flat=True)[:1000])
    return page(
        request,
        "featureflags_dashboard/flag_detail.html",
        {
            "nav": "flags",
            "tab": "settings",
            "flag": flag,
            "state_css": css,
            "state_words": words,
            "form": form,
            "formsets": formsets,
            "section_errors": section_errors,
            "conflict": conflict,
            "other_flags": other_flags,
            "user_count": user_count(flag),
            "excluded_count": user_count(flag, excluded=True),
            "propagation": runtime.lag_of(flag.key, flag.mirror_version),  # None when this process serves this row
        },
        status=status,
    )


@require_POST
@staff_required(can_kill)
def flag_switch(request: HttpRequest, key: str) -> HttpResponse:
    """Switch on (needs change) or off (the kill switch: kill or change)."""
    flag = get_flag(key)
    turn_on = request.POST.get("enabled") == "1"
    if turn_on and not can_change(request.user):
        raise PermissionDenied("You may use the kill switch but not switch flags on.")
    version = posted_version(request)
    try:
        if turn_on:
            services.set_enabled(key, True, expected_version=version, actor=actor(request), source=SOURCE)
            messages.success(request, f"{key} is ON.")
        else:
            # The kill switch never waits for a version: off must always win.
            services.kill(key, actor=actor(request), source=SOURCE)
            messages.warning(request, f"{key} is OFF for everyone (kill switch).")
    except services.FlagConflict as exc:
        messages.error(request, f"Not switched on: {exc} Look at the flag again first.")
    next_url = request.POST.get("next") or ""
    if next_url.startswith("/flags/"):
        return redirect(next_url)
    return redirect(reverse("featureflags_dashboard:detail", args=[flag.key]))
