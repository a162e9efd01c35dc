"""Who may call what: a token by its scope; a session user by ``featureflags.permissions``.

A view's ``scope`` names what a token needs (else read for safe methods, write otherwise);
its ``actions`` name what a session user needs per method (else view when safe, change
otherwise), see :class:`featureflags.api.base.FlagsAPIView`.
"""

from __future__ import annotations

from rest_framework import permissions

from featureflags import permissions as rules
from featureflags.conf import flag_settings

from .models import ApiToken, Scope

_SAFE = ("GET", "HEAD", "OPTIONS")


def required_scope(request, view) -> str:
    """The view's ``scope`` if it names one, else read for safe methods and write otherwise."""
    scope = getattr(view, "scope", None)
    if scope:
        return scope
    return Scope.READ if request.method in _SAFE else Scope.WRITE


def required_action(request, view) -> str:
    action = getattr(view, "actions", {}).get(request.method)
    if action:
        return action
    return "view" if request.method in _SAFE else "change"


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
            return True  # a signed-in user may ask for their own decisions
        return rules.allowed(user, required_action(request, view))


class SchemaAccess(HasScope):
    """The OpenAPI schema and its docs: a read-scope token or staff who may view flags,
    unless ``PUBLIC_API_SCHEMA`` opens them to anyone."""

    def has_permission(self, request, view) -> bool:
        if flag_settings.PUBLIC_API_SCHEMA:
            return True
        return super().has_permission(request, view)


def actor_of(request) -> str:
    """Who the audit log names: ``api:<token name>`` or the user's name."""
    if isinstance(request.auth, ApiToken):
        return request.auth.actor
    return request.user.get_username()
