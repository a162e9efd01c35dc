"""Jinja2 support (optional: imported only when used).

    TEMPLATES = [{
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "OPTIONS": {"extensions": ["featureflags.jinja2.FeatureFlagsExtension"]},
    }]

    {% if is_enabled("new_ui") %}new{% endif %}
    {% if is_enabled("beta", user) %}...{% endif %}
    {{ variant("pricing") }}
    {{ feature_value("checkout_layout", default="single_page") }}

Without a second argument the request's context is used (``request`` in the
template context, else the current context the middleware set).
"""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from jinja2.ext import Extension

from .context import build_context, context_from_request, current_context
from .decisions import is_enabled_for, value_for, variant_for
from .engine import Context

_NO_ONE = object()


def _context_of(template_context: Any, who: Any) -> Context | None:
    if who is not _NO_ONE:
        return build_context(who)
    request = template_context.get("request")
    if request is not None:
        return context_from_request(request)
    return current_context.get()


@pass_context
def is_enabled(template_context: Any, key: str, who: Any = _NO_ONE, default: bool = False) -> bool:
    """``is_enabled("key")`` or ``is_enabled("key", user)`` in a Jinja2 template; never raises."""
    try:
        return is_enabled_for(key, _context_of(template_context, who), default)
    except Exception:
        return default


@pass_context
def variant(template_context: Any, key: str, who: Any = _NO_ONE, default: str | None = None) -> str | None:
    """``variant("key")``: the variant served, else ``default``."""
    try:
        return variant_for(key, _context_of(template_context, who), default)
    except Exception:
        return default


@pass_context
def feature_value(template_context: Any, key: str, who: Any = _NO_ONE, default: Any = None) -> Any:
    """``feature_value("key", default=...)``: the typed value served, else ``default``."""
    try:
        return value_for(key, _context_of(template_context, who), default)
    except Exception:
        return default


class FeatureFlagsExtension(Extension):
    """Adds the globals ``is_enabled``, ``variant`` and ``feature_value`` to a Jinja2 environment."""

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        environment.globals.update(is_enabled=is_enabled, variant=variant, feature_value=feature_value)


def environment(**options: Any) -> Any:
    """A ready environment for Django's ``"environment"`` option: ``"featureflags.jinja2.environment"``."""
    from jinja2 import Environment

    options.setdefault("extensions", [])
    options["extensions"] = [*options["extensions"], FeatureFlagsExtension]
    return Environment(**options)
