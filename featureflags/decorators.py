"""Views and functions behind a flag; sync and async views alike.

@flag_required("new_ui")                          # 404 when off
def page(request): ...

@flag_required("beta", redirect_to="home")        # or fallback_view=old_page
async def beta(request): ...

checkout = variant_view("checkout", blue=checkout_blue, green=checkout_green, default=checkout_old)

class Report(FlagRequiredMixin, TemplateView):
    flag_key = "reports"

urlpatterns = [flagged_path("new_ui", "new/", views.new_page, name="new")]

@check("fast_search", arg="user")                 # any function; FlagDisabled when off
def search(user, query): ...

search_backend = choose("fast_search", on=ElasticSearch, off=DatabaseSearch)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path

from .context import build_context, current_context
from .decisions import is_enabled_for, variant_for


class FlagDisabled(Exception):
    """Raised by :func:`check` when the flag is off for the caller."""

    def __init__(self, key: str) -> None:
        super().__init__(f"Feature {key!r} is not enabled.")
        self.key = key


def _request_on(request: Any, key: str) -> bool:
    return is_enabled_for(key, build_context(request))


def _refusal(key: str, request: Any, args: tuple, kwargs: dict, redirect_to: Any, fallback_view: Any) -> Any:
    """What a view behind an off flag returns: the fallback view, a redirect, or a 404."""
    if fallback_view is not None:
        return fallback_view(request, *args, **kwargs)
    if redirect_to is not None:
        return redirect(redirect_to)
    raise Http404(f"Feature {key!r} is not enabled.")


def flag_required(
    key: str, *, redirect_to: str | None = None, fallback_view: Callable | None = None
) -> Callable[[Callable], Callable]:
    """Serve the view only when ``key`` is on for the request: else ``fallback_view``,
    a redirect to ``redirect_to`` (a URL or a URL name), or a 404.

    >>> @flag_required("new_ui", redirect_to="home")
    ... def new_page(request): ...
    """

    def decorator(view: Callable) -> Callable:
        if iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_view(request: Any, *args: Any, **kwargs: Any) -> Any:
                if _request_on(request, key):
                    return await view(request, *args, **kwargs)
                response = _refusal(key, request, args, kwargs, redirect_to, fallback_view)
                return await response if inspect.isawaitable(response) else response

            return async_view

        @functools.wraps(view)
        def sync_view(request: Any, *args: Any, **kwargs: Any) -> Any:
            if _request_on(request, key):
                return view(request, *args, **kwargs)
            return _refusal(key, request, args, kwargs, redirect_to, fallback_view)

        return sync_view

    return decorator


def variant_view(key: str, default: Callable | None = None, **views: Callable) -> Callable:
    """One view per variant of ``key``; ``default`` (else a 404) when the flag is off or the variant
    has no view. Async when the views are.

    >>> checkout = variant_view("checkout", blue=blue_view, green=green_view, default=old_view)
    """
    candidates = [*views.values(), *([default] if default is not None else [])]
    if not candidates:
        raise TypeError("variant_view needs at least one view.")

    def pick(request: Any) -> Callable:
        chosen = variant_for(key, build_context(request))
        view = views.get(chosen) if chosen is not None else None
        view = view or default
        if view is None:
            raise Http404(f"Feature {key!r} has no view for variant {chosen!r}.")
        return view

    if all(iscoroutinefunction(v) for v in candidates):

        async def async_dispatch(request: Any, *args: Any, **kwargs: Any) -> Any:
            return await pick(request)(request, *args, **kwargs)

        return async_dispatch

    def dispatch(request: Any, *args: Any, **kwargs: Any) -> Any:
        return pick(request)(request, *args, **kwargs)

    return dispatch


class FlagRequiredMixin:
    """A class-based view served only when ``flag_key`` is on; else ``flag_redirect_to`` or a 404.

    >>> class Reports(FlagRequiredMixin, TemplateView):
    ...     flag_key = "reports"
    """

    flag_key: str = ""
    flag_redirect_to: str | None = None

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.flag_key:
            raise TypeError(f"{type(self).__name__} needs flag_key.")
        if _request_on(request, self.flag_key):
            return super().dispatch(request, *args, **kwargs)
        response = self.flag_disabled(request, *args, **kwargs)
        if getattr(self, "view_is_async", False):

            async def deliver() -> Any:
                return response

            return deliver()
        return response

    def flag_disabled(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """The response when the flag is off (override to customise)."""
        return _refusal(self.flag_key, request, args, kwargs, self.flag_redirect_to, None)


def flagged_path(
    key: str,
    route: str,
    view: Callable,
    kwargs: dict[str, Any] | None = None,
    name: str | None = None,
    *,
    redirect_to: str | None = None,
    fallback_view: Callable | None = None,
) -> Any:
    """``path()`` whose view is behind ``key`` (a 404 when off, unless a redirect or fallback is given).

    >>> urlpatterns = [flagged_path("new_ui", "new/", views.new_page, name="new_page")]
    """
    guarded = flag_required(key, redirect_to=redirect_to, fallback_view=fallback_view)(view)
    return path(route, guarded, kwargs, name=name)


def check(
    key: str, arg: str | int | None = None, *, default: bool = False, fallback: Callable | None = None
) -> Callable[[Callable], Callable]:
    """Run the function only when ``key`` is on for its argument ``arg`` (a name or a position),
    else call ``fallback`` with the same arguments or raise :class:`FlagDisabled`. Without ``arg``,
    the current context (the request being served) is asked, else the global switch.

    >>> @check("fast_search", arg="user")
    ... def search(user, query): ...
    """

    def decorator(func: Callable) -> Callable:
        signature = inspect.signature(func)

        def allowed(args: tuple, kwargs: dict) -> bool:
            if arg is None:
                who = current_context.get()
            elif isinstance(arg, int):
                who = args[arg]
            else:
                who = signature.bind_partial(*args, **kwargs).arguments.get(arg)
            return is_enabled_for(key, build_context(who) if arg is not None else who, default)

        def refuse(args: tuple, kwargs: dict) -> Any:
            if fallback is None:
                raise FlagDisabled(key)
            return fallback(*args, **kwargs)

        if iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_inner(*args: Any, **kwargs: Any) -> Any:
                if allowed(args, kwargs):
                    return await func(*args, **kwargs)
                result = refuse(args, kwargs)
                return await result if inspect.isawaitable(result) else result

            return async_inner

        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs) if allowed(args, kwargs) else refuse(args, kwargs)

        return inner

    return decorator


def choose(key: str, on: Any, off: Any, who: Any = None) -> Any:
    """``on`` when ``key`` is on for ``who`` (default: the current context, else the global switch), else ``off``.

    >>> search_backend = choose("fast_search", on=ElasticSearch, off=DatabaseSearch, who=request)
    """
    context = build_context(who) if who is not None else current_context.get()
    return on if is_enabled_for(key, context) else off


__all__ = [
    "FlagDisabled",
    "FlagRequiredMixin",
    "check",
    "choose",
    "flag_required",
    "flagged_path",
    "variant_view",
]
