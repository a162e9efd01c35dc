"""The client-side endpoint: evaluated results for one context, nothing else.

A browser asks with its session (the signed-in user; a ``user_id`` it sends is
ignored) or with an evaluate-scoped key (the caller names the context). The
answer is ``{"flags": {"new_ui": {"enabled": true, "variant": null}}, "version": n}``:
no rules, lists, reasons or other users. It carries an ETag from the snapshot
version and the context, so an unchanged answer costs a 304.
"""

from __future__ import annotations

import hashlib
import json

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from featureflags.context import context_from_request
from featureflags.engine import Context

from . import serializers as s
from .base import FlagsAPIView
from .evaluation import decisions
from .models import ApiToken, Scope

_SPECIAL = ("keys", "user_id", "anonymous_id", "environment")
MAX_AGE = 10  # seconds a browser may reuse an answer without asking


def _context(request) -> Context:
    params = request.query_params
    attributes = {k: v for k, v in params.items() if k not in _SPECIAL}
    for name, value in list(attributes.items()) + [(n, params.get(n)) for n in _SPECIAL if params.get(n)]:
        if len(name) > 100 or len(str(value)) > 1000:
            raise ValidationError({name: ["At most 100 characters for a name and 1000 for a value."]})
    if isinstance(request.auth, ApiToken):
        # A key names the context: it is how a front end without a session asks.
        base = Context(user_id=params.get("user_id"), anonymous_id=params.get("anonymous_id"))
    else:
        base = context_from_request(request._request)  # the session's own user, never another
    return Context(
        user_id=base.user_id,
        anonymous_id=base.anonymous_id,
        attributes={**base.attributes, **attributes},
        environment=params.get("environment") or base.environment,
    )


class ClientFlagsView(FlagsAPIView):
    """Evaluated flags for the current user (session) or the context an evaluate key names."""

    scope = Scope.EVALUATE

    @extend_schema(
        parameters=[
            OpenApiParameter("keys", str, description="Comma-separated flag keys; all flags when omitted."),
            OpenApiParameter("user_id", str, description="Only with a key; a session's user is its own."),
            OpenApiParameter("anonymous_id", str),
            OpenApiParameter("environment", str),
        ],
        responses=inline_serializer(
            "ClientFlags",
            {"version": serializers.IntegerField(), "flags": serializers.DictField(child=s.ClientFlagSerializer())},
        ),
    )
    def get(self, request):
        context = _context(request)
        raw_keys = request.query_params.get("keys")
        keys = [k for k in raw_keys.split(",") if k] if raw_keys else None
        version, results = decisions(keys, context)
        tag = _etag(version, context, keys)
        headers = {"ETag": tag, "Cache-Control": f"private, max-age={MAX_AGE}", "Vary": "Cookie, Authorization"}
        if tag in _if_none_match(request):
            return Response(status=304, headers=headers)
        flags = {key: {"enabled": d.enabled, "variant": d.variant} for key, d in results.items()}
        return Response({"version": version, "flags": flags}, headers=headers)


def _etag(version: int, context: Context, keys: list[str] | None) -> str:
    # The answer depends on the snapshot, the context and the keys asked for, and on nothing else.
    digest = hashlib.sha256(json.dumps([context.as_dict(), keys], sort_keys=True, default=str).encode()).hexdigest()
    return f'"{version}-{digest[:16]}"'


def _if_none_match(request) -> set[str]:
    header = request.headers.get("If-None-Match", "")
    return {part.strip().removeprefix("W/") for part in header.split(",") if part.strip()}
