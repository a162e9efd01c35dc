"""The client-side endpoint: evaluated client-side flags for one user, nothing else.

A browser asks with its session (the signed-in user; a ``user_id`` it sends is ignored)
or with an evaluate-scoped key and the ``user_id`` its backend signed (``user_hash``,
secure mode). The answer is ``{"flags": {"new_ui": {"enabled": true, "variant": null}},
"version": n}``: only flags marked ``client_side``, no rules, lists, reasons or other
users (see :mod:`featureflags.api.public`). It carries an ETag from the snapshot version
and the context, so an unchanged answer costs a 304.
"""

from __future__ import annotations

import hashlib
import json

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from featureflags.engine import Context

from . import serializers as s
from .base import FlagsAPIView
from .models import Scope
from .public import client_decisions, public_context
from .throttling import PUBLIC_THROTTLES

_SPECIAL = ("keys", "user_id", "user_hash", "anonymous_id", "environment")
MAX_AGE = 10  # seconds a browser may reuse an answer without asking
MAX_KEYS = 1000


def _context(request) -> Context:
    params = request.query_params
    for name, value in params.items():
        if len(name) > 100 or len(value) > 1000:
            raise ValidationError({name[:100]: ["At most 100 characters for a name and 1000 for a value."]})
    return public_context(
        request,
        user_id=params.get("user_id"),
        user_hash=params.get("user_hash"),
        anonymous_id=params.get("anonymous_id"),
        attributes={k: v for k, v in params.items() if k not in _SPECIAL},
    )


class ClientFlagsView(FlagsAPIView):
    """Evaluated client-side flags for the session's user, or for the user an evaluate key names and signs."""

    scope = Scope.EVALUATE
    throttle_classes = PUBLIC_THROTTLES

    @extend_schema(
        parameters=[
            OpenApiParameter("keys", str, description="Comma-separated flag keys; all client-side flags when omitted."),
            OpenApiParameter("user_id", str, description="Only with a key and no session; needs user_hash."),
            OpenApiParameter("user_hash", str, description="HMAC-SHA256 of user_id by the backend (secure mode)."),
            OpenApiParameter("anonymous_id", str),
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
        if keys is not None and len(keys) > MAX_KEYS:
            raise ValidationError({"keys": [f"At most {MAX_KEYS} keys."]})
        version, flags = client_decisions(keys, context)
        tag = _etag(version, context, keys)
        headers = {"ETag": tag, "Cache-Control": f"private, max-age={MAX_AGE}", "Vary": "Cookie, Authorization"}
        if tag in _if_none_match(request):
            return Response(status=304, headers=headers)
        return Response({"version": version, "flags": flags}, headers=headers)


def _etag(version: int, context: Context, keys: list[str] | None) -> str:
    # The answer depends on the snapshot, the context and the keys asked for, and on nothing else.
    digest = hashlib.sha256(json.dumps([context.as_dict(), keys], sort_keys=True, default=str).encode()).hexdigest()
    return f'"{version}-{digest[:16]}"'


def _if_none_match(request) -> set[str]:
    header = request.headers.get("If-None-Match", "")
    return {part.strip().removeprefix("W/") for part in header.split(",") if part.strip()}
