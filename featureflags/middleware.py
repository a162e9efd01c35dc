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

import time
from http.cookies import Morsel, SimpleCookie
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers

from .context import RequestContext, current_context, request_setting, signed_anonymous_id
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
        cookie = request_setting("ANONYMOUS_COOKIE")
        if cookie:
            value = signed_anonymous_id(cookie, anonymous_id)
            response.cookies[cookie] = issued_cookie(cookie, value, request.is_secure())
        return response


def issued_cookie(name: str, value: str, secure: bool) -> Morsel:
    """The new visitor's cookie as ``response.set_cookie(name, value, max_age=ANONYMOUS_COOKIE_MAX_AGE,
    httponly=True, secure=secure, samesite="Lax")`` makes it, at a fraction of its cost: Django's
    own call makes the attributes once a second, and their Set-Cookie text is reused."""
    attributes, suffix = _cookie_template(name, secure)
    morsel = _IssuedCookie()
    morsel.set(name, value, _ENCODER.value_encode(value)[1])
    dict.update(morsel, attributes)
    morsel._line = f"{name}={morsel.coded_value}; {suffix}" if suffix else f"{name}={morsel.coded_value}"
    morsel._as_made = (morsel.coded_value, dict(attributes))
    return morsel


_ENCODER = SimpleCookie()


class _IssuedCookie(Morsel):
    """A Morsel whose Set-Cookie text is made in advance; changed after (a domain added by
    another middleware, say), it is formatted by Morsel as usual."""

    _line: str | None = None  # class defaults: an unpickled copy (Morsel keeps key and value) formats as usual
    _as_made: tuple[str, dict[str, Any]] | None = None

    def OutputString(self, attrs: Any = None) -> str:
        made = self._as_made
        if attrs is None and made is not None and made[0] == self.coded_value and made[1] == self:
            return self._line  # type: ignore[return-value]
        return super().OutputString(attrs)


def _cookie_template(name: str, secure: bool) -> tuple[dict[str, Any], str]:
    max_age = request_setting("ANONYMOUS_COOKIE_MAX_AGE")
    key = (name, secure, max_age, int(time.time()))
    cached = _templates.get(key)
    if cached is None:
        made = HttpResponse()
        made.set_cookie(name, "x", max_age=max_age, httponly=True, secure=secure, samesite="Lax")
        morsel = made.cookies[name]
        text = morsel.OutputString()
        suffix = text.split("; ", 1)[1] if "; " in text else ""
        _templates.clear()  # one second's templates at a time
        cached = _templates[key] = (dict(morsel), suffix)
    return cached


_templates: dict[tuple[str, bool, Any, int], tuple[dict[str, Any], str]] = {}


def _vary_on_cookie(response: Any) -> None:
    if "Vary" in response.headers:
        patch_vary_headers(response, ("Cookie",))
    else:
        response.headers["Vary"] = "Cookie"  # the common case, without parsing a header
