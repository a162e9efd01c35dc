"""Contexts from whatever the caller has: a request, a user, an id, a mapping or a Context."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from .conf import flag_settings
from .engine import Context

# The context of the request or job being handled (set by the middleware).
current_context: ContextVar[Context | None] = ContextVar("featureflags_context", default=None)

_SPECIAL = ("user_id", "anonymous_id", "environment")


def build_context(
    who: Any = None, environment: str | None = None, attributes: Mapping[str, Any] | None = None
) -> Context | None:
    """The context for ``who``; None (the global question) when nothing at all is given."""
    if who is None and not attributes and environment is None:
        return None
    if isinstance(who, Context):
        context = who
    elif who is None:
        context = Context()
    elif isinstance(who, (str, int)):
        context = Context(user_id=who)
    elif isinstance(who, Mapping):
        context = Context(
            user_id=who.get("user_id"),
            anonymous_id=who.get("anonymous_id"),
            environment=who.get("environment"),
            attributes={k: v for k, v in who.items() if k not in _SPECIAL},
        )
    elif hasattr(who, "META") and hasattr(who, "method"):
        context = context_from_request(who)
    elif hasattr(who, "is_authenticated"):
        context = context_from_user(who)
    else:
        context = Context(user_id=who)
    if attributes:
        context = context.replace(attributes={**context.attributes, **attributes})
    if environment is not None:
        context = context.replace(environment=environment)
    return context


def user_id_of(user: Any) -> str | None:
    """The id flags know a Django user by (``USER_ID_ATTRIBUTE``); None when anonymous."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    attribute = flag_settings.USER_ID_ATTRIBUTE
    if callable(attribute):
        value = attribute(user)
    elif "." in attribute:
        from .conf import import_string

        value = import_string(attribute, "USER_ID_ATTRIBUTE")(user)
    else:
        value = getattr(user, attribute, None)
    return None if value is None else str(value)


def context_from_user(user: Any) -> Context:
    return Context(
        user_id=user_id_of(user),
        attributes={
            "is_authenticated": bool(getattr(user, "is_authenticated", False)),
            "is_staff": bool(getattr(user, "is_staff", False)),
            "is_superuser": bool(getattr(user, "is_superuser", False)),
        },
    )


def context_from_request(request: Any) -> Context:
    """A request's context: the one the middleware built, else one from its user and cookie."""
    cached = getattr(request, "_featureflags_context", None)
    if cached is not None:
        return cached
    user = getattr(request, "user", None)
    base = context_from_user(user) if user is not None else Context()
    attributes = dict(base.attributes)
    attributes["ip"] = request.META.get("REMOTE_ADDR")
    anonymous_id = None
    cookie = flag_settings.ANONYMOUS_COOKIE
    if cookie:
        try:
            anonymous_id = request.get_signed_cookie(cookie, default=None)
        except Exception:
            anonymous_id = None
    hook = flag_settings.CONTEXT
    if hook is not None:
        try:
            attributes.update(hook(request) or {})
        except Exception:
            import logging

            logging.getLogger("featureflags").exception("featureflags: the CONTEXT hook failed")
    return Context(user_id=base.user_id, anonymous_id=anonymous_id, attributes=attributes)
