"""Who may do what: the table in ``featureflags.permissions`` (staff, then Django model permissions)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from featureflags import permissions as rules
from featureflags.input_checks import hostile_params
from featureflags.permissions import ADD, CHANGE, DELETE, KILL, VIEW  # noqa: F401  (re-exported)


def can_view(user) -> bool:
    return rules.allowed(user, "view")


def can_change(user) -> bool:
    return rules.allowed(user, "change")


def can_kill(user) -> bool:
    """The kill switch: its own permission, and anyone who may edit may also switch off."""
    return rules.allowed(user, "kill")


def permissions_context(user) -> dict[str, bool]:
    return rules.allowed_actions(user)


def staff_required(check: Callable = can_view):
    """Send anonymous and non-staff visitors to the login page; refuse staff without ``check``."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if not (user.is_authenticated and user.is_active and user.is_staff):
                return redirect_to_login(request.get_full_path())
            try:
                if not check(user):
                    raise PermissionDenied("You do not have the permission for this.")
                problems = hostile_params(request, kwargs)
                if problems:
                    raise BadRequest("; ".join(f"{name}: {message}" for name, message in problems.items()))
                return view(request, *args, **kwargs)
            except PermissionDenied as exc:
                return forbidden(request, exc)
            except BadRequest as exc:
                return forbidden(request, exc, status=400)

        return wrapped

    return decorator


def forbidden(request: HttpRequest, exc: Exception, status: int = 403) -> HttpResponse:
    """A dashboard page saying what is not allowed (403) or what was wrong (400), with the way back."""
    context = {**permissions_context(request.user), "reason": str(exc) or "You do not have the permission for this."}
    if status == 400:
        context["title"] = "Bad request"
    return render(request, "featureflags_dashboard/forbidden.html", context, status=status)
