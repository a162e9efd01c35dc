"""A flag's rules (RE2 patterns searched in the user id) and the live tester."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from featureflags import services
from featureflags.editing import state_of
from featureflags.engine.rules import RuleError, check_pattern, compile_rules

from ..permissions import can_change, can_view, staff_required
from .common import SOURCE, actor, get_flag, page, posted_version

MAX_TESTED_IDS = 1000


@staff_required(can_view)
def rule_list(request: HttpRequest, key: str) -> HttpResponse:
    flag = get_flag(key, relations=True)
    patterns = [rule.pattern for rule in flag.rules.all()]
    error = ""
    typed = ""
    if request.method == "POST":
        if not can_change(request.user):
            raise PermissionDenied("You may look at flags but not change them.")
        typed = request.POST.get("pattern", "")
        if request.POST.get("action") == "remove":
            index = request.POST.get("index", "")
            new = [p for i, p in enumerate(patterns) if str(i) != index]
        else:
            new = patterns + [typed]
        try:
            services.update_flag(
                key,
                {"rules": new},
                expected_version=posted_version(request) or 0,
                actor=actor(request),
                source=SOURCE,
                action="update_rules",
            )
        except services.FlagConflict as exc:
            messages.error(
                request,
                f"{exc} Rules now: {', '.join(exc.current['rules']) or 'none'}. Nothing was changed; try again.",
            )
            return redirect("featureflags_dashboard:rules", key=key)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, "Rule added." if request.POST.get("action") != "remove" else "Rule removed.")
            return redirect("featureflags_dashboard:rules", key=key)
    css, words = state_of(flag)
    return page(
        request,
        "featureflags_dashboard/rules.html",
        {
            "nav": "flags",
            "tab": "rules",
            "flag": flag,
            "state_css": css,
            "state_words": words,
            "patterns": patterns,
            "error": error,
            "typed": typed,
        },
        status=400 if error else 200,
    )


@require_POST
@staff_required(can_view)
def rule_test(request: HttpRequest, key: str) -> JsonResponse:
    """Which of the flag's rules (and the pattern being typed) match each pasted id."""
    flag = get_flag(key, relations=True)
    patterns = [rule.pattern for rule in flag.rules.all()]
    typed = request.POST.get("pattern", "")
    labels = [f"rule {i + 1}" for i in range(len(patterns))]
    error = ""
    if typed:
        try:
            check_pattern(typed)
        except RuleError as exc:
            error = f"The new pattern is not valid: {exc}"
        else:
            patterns.append(typed)
            labels.append("the new pattern")
    ids = [line.strip() for line in request.POST.get("ids", "").splitlines() if line.strip()][:MAX_TESTED_IDS]
    matcher = compile_rules(patterns)
    results = [
        {"id": user_id, "matches": [labels[i] for i in sorted(matcher(user_id) or [])] if matcher else []}
        for user_id in ids
    ]
    return JsonResponse({"results": results, "error": error})
