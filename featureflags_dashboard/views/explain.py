"""Explain: a user id and attributes in, the decision and every step of the reason chain out."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from featureflags import decisions
from featureflags.editing import state_of

from ..forms import ExplainForm
from ..permissions import can_view, staff_required
from .common import get_flag, page


@staff_required(can_view)
def explain_view(request: HttpRequest, key: str) -> HttpResponse:
    flag = get_flag(key)
    form = ExplainForm(request.GET if "user_id" in request.GET else None)
    explanation = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        who = {"user_id": data["user_id"], **data["attributes"]} if data["user_id"] else (data["attributes"] or None)
        explanation = decisions.explain(key, who, environment=data["environment"] or None)
    css, words = state_of(flag)
    return page(
        request,
        "featureflags_dashboard/explain.html",
        {
            "nav": "flags",
            "tab": "explain",
            "flag": flag,
            "state_css": css,
            "state_words": words,
            "form": form,
            "explanation": explanation,
        },
    )
