"""Who may do what: staff only, then Django model permissions (view, change, kill switch)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

VIEW = "featureflags.view_flag"
CHANGE = "featureflags.change_flag"
ADD = "featureflags.add_flag"
KILL = "featureflags.kill_flag"


def can_view(user) -> bool:
    return user.has_perm(VIEW) or user.has_perm(CHANGE)


def can_change(user) -> bool:
    return user.has_perm(CHANGE)


def can_kill(user) -> bool:
    """The kill switch: its own permission, and anyone who may edit may also switch off."""
    return user.has_perm(KILL) or user.has_perm(CHANGE)


def permissions_context(user) -> dict[str, bool]:
    return {
        "can_view": can_view(user),
        "can_change": can_change(user),
        "can_add": user.has_perm(ADD),
        "can_kill": can_kill(user),
    }


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
                return view(request, *args, **kwargs)
            except PermissionDenied as exc:
                return forbidden(request, exc)

        return wrapped

    return decorator


def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    """A dashboard page saying what is not allowed, with the way back (status 403)."""
    context = {**permissions_context(request.user), "reason": str(exc) or "You do not have the permission for this."}
    return render(request, "featureflags_dashboard/forbidden.html", context, status=403)
