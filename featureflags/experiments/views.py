"""Plain Django views: CSV exports for API clients (``/api/experiments/...``) and the feedback form's POST."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from . import export as exports
from . import flusher
from .feedback import feedback


def _allowed(request: HttpRequest) -> tuple[bool, int]:
    """A Bearer token with the read scope (featureflags.api), else a staff session that may view flags."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        try:
            from ..api.models import ApiToken, Scope
        except ImportError:
            return False, 401
        token = ApiToken.objects.authenticate(header[7:].strip())
        if token is None:
            return False, 401
        return token.allows(Scope.READ), 403
    from ..permissions import allowed, is_operator

    user = request.user
    if not is_operator(user):
        return False, 401
    return allowed(user, "view"), 403


@require_GET
def export_csv(request: HttpRequest, key: str, kind: str) -> HttpResponse:
    """``GET /api/experiments/<key>/<kind>.csv`` with ``Authorization: Bearer <read token>``."""
    allowed, status = _allowed(request)
    if not allowed:
        detail = "A token with the read scope, or a staff session, is needed."
        response = JsonResponse({"detail": detail}, status=status)
        if status == 401:
            response["WWW-Authenticate"] = "Bearer"
        return response
    if kind not in exports.KINDS:
        return JsonResponse({"kind": f"One of {', '.join(exports.KINDS)}."}, status=404)
    client = flusher.client()
    if kind != "feedback" and client is None:
        return JsonResponse(
            {"detail": "Experiments need Redis (FEATUREFLAGS['REDIS_URL'] or REDIS_SENTINELS)."}, status=503
        )
    try:
        return exports.export(key, kind, client)
    except Exception as exc:  # Redis down before the first row
        return JsonResponse({"detail": f"Experiment data cannot be read: {exc}"}, status=503)


@require_POST
def feedback_post(request: HttpRequest, key: str) -> HttpResponse:
    """The feedback form's target: JSON for scripts, a redirect back for the plain form."""
    raw_rating = request.POST.get("rating", "").strip()
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        rating = int(raw_rating) if raw_rating else None
    except ValueError:
        return _feedback_error(request, {"rating": ["A whole number from 1 to 5."]}, wants_json)
    try:
        entry = feedback(key, request, rating=rating, text=request.POST.get("text", ""))
    except ValidationError as exc:
        return _feedback_error(request, exc.message_dict, wants_json)
    if wants_json:
        return JsonResponse({"id": entry.pk, "variant": entry.variant}, status=201)
    return HttpResponseRedirect(_next(request))


def _feedback_error(request: HttpRequest, errors: dict, wants_json: bool) -> HttpResponse:
    if wants_json:
        return JsonResponse(errors, status=400)
    return HttpResponseRedirect(_next(request))


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return "/"
