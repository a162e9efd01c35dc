"""Scopes: a token sees no more than its scope; a session user needs staff rights."""

from __future__ import annotations

from rest_framework import permissions

from .models import ApiToken, Scope

_SAFE = ("GET", "HEAD", "OPTIONS")


def required_scope(request, view) -> str:
    """The view's ``scope`` if it names one, else read for safe methods and write otherwise."""
    scope = getattr(view, "scope", None)
    if scope:
        return scope
    return Scope.READ if request.method in _SAFE else Scope.WRITE


class HasScope(permissions.BasePermission):
    message = "This token's scope does not allow this request."

    def has_permission(self, request, view) -> bool:
        scope = required_scope(request, view)
        if isinstance(request.auth, ApiToken):
            return request.auth.allows(scope)
        user = request.user
        if not (user and user.is_authenticated):
            return False
        # A view may ask more of a session than of a token (any context's decisions and reasons: staff only).
        scope = getattr(view, "session_scope", None) or scope
        if scope == Scope.EVALUATE:
            return True  # a signed-in user may ask for decisions
        if not user.is_staff:
            return False
        if scope == Scope.READ:
            return user.has_perm("featureflags.view_flag")
        return user.has_perm("featureflags.change_flag")


def actor_of(request) -> str:
    """Who the audit log names: ``api:<token name>`` or the user's name."""
    if isinstance(request.auth, ApiToken):
        return request.auth.actor
    return request.user.get_username()
