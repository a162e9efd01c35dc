"""Template tags: ``{% load featureflags %}``.

    {% if_feature "new_ui" %}new{% else %}old{% endif_feature %}
    {% if_feature "beta" for some_user %}...{% endif_feature %}
    {% variant "pricing" as plan %}{{ plan }}
    {% feature_value "checkout_layout" default "single_page" as layout %}{{ layout }}
    {% feature_flags_json "new_ui" "pricing" %}

Without ``for``, the request's context is used (``request`` in the template
context, else the current context the middleware set, else the global switch).
An unknown flag is off; a tag never raises.
"""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.utils.html import conditional_escape, json_script

from ..context import build_context, context_from_request, current_context
from ..decisions import evaluate_for, is_enabled_for, value_for, variant_for
from ..engine import Context

register = template.Library()


def _context_of(context: template.Context, who: template.base.FilterExpression | None) -> Context | None:
    if who is not None:
        return build_context(who.resolve(context))
    # render(request, ...) gives a RequestContext: its attribute is cheaper than a lookup in the stack.
    request = getattr(context, "request", None)
    if request is None:
        request = context.get("request")
    if request is not None:
        flags_context = getattr(request, "_featureflags_context", None)  # the middleware's: the common case
        return flags_context if flags_context is not None else context_from_request(request)
    return current_context.get()


def _key(parser: template.base.Parser, bit: str) -> str | template.base.FilterExpression:
    """A quoted key is a plain string (no lookup when rendering); anything else is resolved."""
    if len(bit) >= 2 and bit[0] == bit[-1] and bit[0] in "\"'":
        return bit[1:-1]
    return parser.compile_filter(bit)


def _resolve_key(key: str | template.base.FilterExpression, context: template.Context) -> str:
    return key if type(key) is str else str(key.resolve(context))


class IfFeatureNode(template.Node):
    child_nodelists = ("nodelist_on", "nodelist_off")

    def __init__(self, key, who, nodelist_on, nodelist_off) -> None:
        self.key = key
        self.who = who
        self.nodelist_on = nodelist_on
        self.nodelist_off = nodelist_off

    def render(self, context: template.Context) -> str:
        key = self.key
        try:
            if type(key) is not str:
                key = _resolve_key(key, context)
            enabled = is_enabled_for(key, _context_of(context, self.who))
        except Exception:  # never break a page over a flag
            enabled = False
        return (self.nodelist_on if enabled else self.nodelist_off).render(context)


@register.tag("if_feature")
def if_feature(parser: template.base.Parser, token: template.base.Token) -> IfFeatureNode:
    """``{% if_feature "key" [for user] %}...[{% else %}...]{% endif_feature %}``."""
    bits = token.split_contents()
    if len(bits) not in (2, 4) or (len(bits) == 4 and bits[2] != "for"):
        raise template.TemplateSyntaxError(f'Usage: {{% {bits[0]} "key" [for user] %}}')
    who = parser.compile_filter(bits[3]) if len(bits) == 4 else None
    nodelist_on = parser.parse(("else", "endif_feature"))
    nodelist_off = template.NodeList()
    if parser.next_token().contents == "else":
        nodelist_off = parser.parse(("endif_feature",))
        parser.delete_first_token()
    return IfFeatureNode(_key(parser, bits[1]), who, nodelist_on, nodelist_off)


class VariantNode(template.Node):
    def __init__(self, key, who, target: str | None) -> None:
        self.key = key
        self.who = who
        self.target = target

    def render(self, context: template.Context) -> str:
        try:
            chosen = variant_for(_resolve_key(self.key, context), _context_of(context, self.who))
        except Exception:
            chosen = None
        if self.target is not None:
            context[self.target] = chosen
            return ""
        return "" if chosen is None else conditional_escape(chosen)


@register.tag("variant")
def variant(parser: template.base.Parser, token: template.base.Token) -> VariantNode:
    """``{% variant "key" [for user] [as name] %}``: the variant served (empty when off)."""
    bits = token.split_contents()
    target = None
    if len(bits) >= 4 and bits[-2] == "as":
        target = bits[-1]
        bits = bits[:-2]
    if len(bits) not in (2, 4) or (len(bits) == 4 and bits[2] != "for"):
        raise template.TemplateSyntaxError(f'Usage: {{% {bits[0]} "key" [for user] [as name] %}}')
    who = parser.compile_filter(bits[3]) if len(bits) == 4 else None
    return VariantNode(_key(parser, bits[1]), who, target)


class FeatureValueNode(template.Node):
    def __init__(self, key, who, default, target: str | None) -> None:
        self.key = key
        self.who = who
        self.default = default
        self.target = target

    def render(self, context: template.Context) -> str:
        default = None if self.default is None else self.default.resolve(context)
        try:
            chosen = value_for(_resolve_key(self.key, context), _context_of(context, self.who), default)
        except Exception:
            chosen = default
        if self.target is not None:
            context[self.target] = chosen
            return ""
        if chosen is None:
            return ""
        # A string as it is; numbers, booleans and JSON as JSON text (true, 2.5, {"a": 1}).
        return conditional_escape(chosen if isinstance(chosen, str) else json.dumps(chosen))


@register.tag("feature_value")
def feature_value(parser: template.base.Parser, token: template.base.Token) -> FeatureValueNode:
    """``{% feature_value "key" [for user] [default value] [as name] %}``: the typed value served
    (``default``, else empty, when the flag is off or unknown)."""
    bits = token.split_contents()
    usage = f'Usage: {{% {bits[0]} "key" [for user] [default value] [as name] %}}'
    if len(bits) < 2:
        raise template.TemplateSyntaxError(usage)
    options: dict[str, str] = {}
    rest = bits[2:]
    while rest:
        if len(rest) < 2 or rest[0] not in ("for", "default", "as") or rest[0] in options:
            raise template.TemplateSyntaxError(usage)
        options[rest[0]] = rest[1]
        rest = rest[2:]
    who = parser.compile_filter(options["for"]) if "for" in options else None
    default = parser.compile_filter(options["default"]) if "default" in options else None
    return FeatureValueNode(_key(parser, bits[1]), who, default, options.get("as"))


@register.simple_tag(takes_context=True)
def feature_flags_json(context: template.Context, *keys: str, element_id: str = "featureflags") -> str:
    """``<script type="application/json" id="featureflags">`` with the evaluated flags for this
    request: ``{"key": {"enabled": true, "variant": "blue", "value": "two_step"}}``. Only results,
    never rules or user lists.
    With no keys, every client-side flag is evaluated (the ones the client endpoint shows).
    """
    from ..store import runtime

    who = _context_of(context, None)
    chosen = keys or sorted(key for key, flag in runtime.current().flags.items() if flag.client_side)
    data: dict[str, Any] = {}
    for key in chosen:
        decision = evaluate_for(key, who)
        data[key] = {"enabled": decision.enabled, "variant": decision.variant, "value": decision.value}
    return json_script(data, element_id)


@register.simple_tag
def feature_flags_secure_hash(user_id: Any) -> str:
    """Secure mode: ``{% feature_flags_secure_hash request.user.pk %}``, the signature a page hands
    featureflags.js (``userHash``) so that a public key may evaluate that user, and no other."""
    from ..secure_mode import secure_hash

    return secure_hash(user_id)
