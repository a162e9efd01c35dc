"""The request's flags: a lazy context, ``request.flags``, and the anonymous visitor's cookie.

MIDDLEWARE = [
    ...,
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "featureflags.middleware.FeatureFlagsMiddleware",
]

def view(request):
    if request.flags.new_ui: ...
    request.flags["new-checkout"]
    request.flags.variant("pricing")
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.utils.cache import patch_vary_headers

from .conf import flag_settings
from .context import RequestContext, current_context, signed_anonymous_id
from .decisions import evaluate_for, is_enabled_for, variant_for
from .engine import Context, Decision


class RequestFlags:
    """``request.flags``: the request's decisions by attribute, by item, or as a variant.

    >>> request.flags.new_ui, request.flags["new-ui"], request.flags.variant("exp")
    (True, False, 'blue')
    """

    __slots__ = ("context",)

    def __init__(self, context: Context) -> None:
        self.context = context

    def __getattr__(self, key: str) -> bool:
        if key[:2] == "__":
            raise AttributeError(key)  # copy, pickle and friends probe dunders
        return is_enabled_for(key, self.context)

    def __getitem__(self, key: str) -> bool:
        return is_enabled_for(key, self.context)

    def get(self, key: str, default: bool = False) -> bool:
        return is_enabled_for(key, self.context, default)

    def variant(self, key: str, default: str | None = None) -> str | None:
        return variant_for(key, self.context, default)

    def evaluate(self, key: str) -> Decision:
        return evaluate_for(key, self.context)

    def __repr__(self) -> str:
        return f"<RequestFlags {self.context!r}>"


class FeatureFlagsMiddleware:
    """Makes the request's context current (contextvars) and gives ``request.flags``; sync and async.

    Nothing is read (user, cookie, session) until a flag is checked; the signed,
    HttpOnly anonymous-id cookie is set only when an anonymous visitor's context
    was built and it had none.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        token = current_context.set(self.start(request))
        try:
            response = self.get_response(request)
        finally:
            current_context.reset(token)
        return self.finish(request, response)

    async def __acall__(self, request: Any) -> Any:
        token = current_context.set(self.start(request))
        try:
            response = await self.get_response(request)
        finally:
            current_context.reset(token)
        return self.finish(request, response)

    @staticmethod
    def start(request: Any) -> RequestContext:
        context = RequestContext(request)
        request._featureflags_context = context
        request.flags = RequestFlags(context)
        return context

    @staticmethod
    def finish(request: Any, response: Any) -> Any:
        context = request.__dict__.get("_featureflags_context")
        if context is not None and context.is_built:  # the page may differ per visitor: shared caches must know
            _vary_on_cookie(response)
        anonymous_id = request.__dict__.get("_featureflags_new_anonymous_id")  # set once, when a check built it
        if anonymous_id is None:
            return response
        cookie = flag_settings.ANONYMOUS_COOKIE
        if cookie:
            response.set_cookie(
                cookie,
                signed_anonymous_id(cookie, anonymous_id),
                max_age=flag_settings.ANONYMOUS_COOKIE_MAX_AGE,
                httponly=True,
                secure=request.is_secure(),
                samesite="Lax",
            )
        return response


def _vary_on_cookie(response: Any) -> None:
    if "Vary" in response.headers:
        patch_vary_headers(response, ("Cookie",))
    else:
        response.headers["Vary"] = "Cookie"  # the common case, without parsing a header
