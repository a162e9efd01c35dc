"""A health view for load balancers and monitors: this process's flags against the database's.

    # urls.py
    path("flags/health/", include("featureflags.health")),

- 200 ``"ok"``: this process serves a snapshot and holds the database's head (or
  reaches each head within 2 x ``MAX_STALENESS``);
- 200 ``"degraded"``: neither store answers; it serves its last snapshot (as every
  process does then: taking them all out of rotation would not help);
- 503 ``"unavailable"`` (no snapshot at all) or ``"behind"`` (the database is ahead
  and this process has not caught up for 2 x ``MAX_STALENESS``), with ``Retry-After``.

The body is ``featureflags.status()`` plus ``status``. No login: versions, never flag contents.
"""

from __future__ import annotations

import math
import time

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache

from .store import runtime, sync


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    report = runtime.status()
    staleness = report["max_staleness"]
    last_check = report["seconds_since_check"]
    if not report["thread_alive"] and (last_check is None or last_check > staleness):
        sync.reconcile(close=False)  # no sync thread (scripts, tests): check once now
        report = runtime.status()
    since = runtime.behind_since()
    behind_for = 0.0 if since is None else time.monotonic() - since
    report["behind_seconds"] = round(behind_for, 3)
    if report["version"] is None or report["version"] < 0:
        verdict, code = "unavailable", 503
    elif behind_for > 2 * staleness:
        verdict, code = "behind", 503  # the database is reachable and this process does not catch up
    elif report["database_ok"] is False and report["redis_ok"] is not True:
        verdict, code = "degraded", 200  # every process serves its last snapshot: keep serving
    else:
        verdict, code = "ok", 200
    report["status"] = verdict
    if report.get("last_error"):
        report["last_error"] = kind_of_error(report["last_error"])
    response = JsonResponse(report, status=code)
    if code != 200:
        response["Retry-After"] = str(max(1, math.ceil(staleness)))
    return response


def kind_of_error(error: str) -> str:
    """``"database: OperationalError: <text>"`` -> ``"database: OperationalError"``: this view needs no
    login, and a driver's text can name hosts, ports and users (the log keeps it whole)."""
    kind = []
    for part in error.split(": "):
        if not part.isidentifier():
            break
        kind.append(part)
    return ": ".join(kind) or "error"


urlpatterns = [path("", health, name="featureflags-health")]
