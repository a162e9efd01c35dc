"""Experiment pages: the list of experiments, a flag's results (with feedback), CSV downloads."""

from __future__ import annotations

from django.apps import apps
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.safestring import mark_safe

from featureflags.editing import state_of
from featureflags.experiments import export, flusher
from featureflags.experiments.chart import results_chart
from featureflags.experiments.models import Feedback
from featureflags.experiments.results import ResultsUnavailable, experiment_results
from featureflags.models import Flag

from .permissions import can_view, staff_required
from .views.common import get_flag, page

FEEDBACK_SHOWN = 50
EXPERIMENTS_APP = "featureflags.experiments"


def _not_installed(request: HttpRequest) -> HttpResponse:
    """The experiment pages without the experiments app: what to add, instead of a database error."""
    return page(
        request,
        "featureflags_dashboard/not_installed.html",
        {
            "nav": "experiments",
            "feature": "experiments",
            "reason": "Results, feedback and CSV downloads need the experiments app (and Redis for exposures "
            "and conversions). Add it to your settings, then run manage.py migrate:",
            "setting": f'INSTALLED_APPS += ["{EXPERIMENTS_APP}"]',
        },
    )


@staff_required(can_view)
def experiment_list(request: HttpRequest) -> HttpResponse:
    flags = Flag.objects.filter(variants__isnull=False).distinct().prefetch_related("variants")
    rows = [(flag, *state_of(flag)) for flag in flags]
    return page(request, "featureflags_dashboard/experiments/list.html", {"nav": "experiments", "rows": rows})


@staff_required(can_view)
def experiment_detail(request: HttpRequest, key: str) -> HttpResponse:
    if not apps.is_installed(EXPERIMENTS_APP):
        return _not_installed(request)
    flag = get_flag(key)
    variants = [(v.name, v.weight) for v in flag.variants.all()]
    results = error = chart = None
    if not variants:
        error = "This flag has no variants: add some to run an experiment."
    else:
        try:
            results = experiment_results(key, variants)
        except ResultsUnavailable as exc:
            error = str(exc)
        else:
            goal = results.goals[0].goal if results.goals else None
            # chart.py escapes every name it writes into the SVG.
            chart = mark_safe(results_chart(results.days, [name for name, _ in results.variants], goal))
    feedback = Feedback.objects.filter(flag_key=key)
    css, words = state_of(flag)
    return page(
        request,
        "featureflags_dashboard/experiments/detail.html",
        {
            "flag": flag,
            "tab": "experiment",
            "state_css": css,
            "state_words": words,
            "results": results,
            "error": error,
            "chart": chart,
            "feedback": feedback[:FEEDBACK_SHOWN],
            "feedback_count": feedback.count(),
            "kinds": export.KINDS,
        },
    )


@staff_required(can_view)
def experiment_export(request: HttpRequest, key: str, kind: str) -> HttpResponse:
    if kind not in export.KINDS:
        raise Http404(f"No export called {kind!r}.")
    if not apps.is_installed(EXPERIMENTS_APP):
        return _not_installed(request)
    get_flag(key)
    client = flusher.client()
    if kind != "feedback" and client is None:
        return HttpResponse(
            "Experiments need Redis (FEATUREFLAGS['REDIS_URL'] or REDIS_SENTINELS).",
            status=503,
            content_type="text/plain",
        )
    try:
        return export.export(key, kind, client)
    except Exception as exc:
        return HttpResponse(f"Experiment data cannot be read: {exc}", status=503, content_type="text/plain")
