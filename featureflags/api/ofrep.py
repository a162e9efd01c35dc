"""OpenFeature Remote Evaluation Protocol (OFREP v0.3.0): any OpenFeature SDK's OFREP provider
evaluates flags here, with the site's API root (``https://example.com/api/``) as its base URL.

- ``POST ofrep/v1/evaluate/flags/{key}``: one flag, for server-side providers.
- ``POST ofrep/v1/evaluate/flags``: every flag the caller may see, for web and mobile
  providers; answered with an ``ETag`` (a hash of the evaluated flags), so a poll that
  finds nothing changed costs a ``304``.

``context.targetingKey`` is the user id; ``anonymous_id`` and ``environment`` fill those
fields and every other entry is an attribute, exactly as ``featureflags.is_enabled(key,
{"user_id": ..., **attributes})`` reads them. A server-side token (read, write) evaluates
any context and learns the product's own reason and rule in ``metadata``. A public caller
(an evaluate-scope key, or a signed-in session) follows :mod:`featureflags.api.public`:
client-side flags only (any other key is ``FLAG_NOT_FOUND``, like an unknown one), the
``targetingKey`` is the user only with ``context.userHash`` (secure mode) and otherwise an
anonymous id, attributes only as ``CLIENT_ATTRIBUTES`` allows, and no metadata.

A flag's ``value`` follows its ``value_type``: a boolean flag serves ``true``/``false``
(and its variant, if any, in ``variant``); another type serves the variant's value, and
when off no ``value`` at all (the spec's code default: the caller's default applies).
OFREP sends no type (its ADR-0003), so a wrong type is found by the provider
(``TYPE_MISMATCH``), never here.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from featureflags.context import build_context
from featureflags.engine import CompiledFlag, Context, Decision, Reason, Snapshot
from featureflags.store import runtime

from .authentication import BearerTokenAuthentication
from .base import FlagsAPIView
from .models import Scope
from .public import public_context
from .throttling import PUBLIC_THROTTLES, is_public_caller

logger = logging.getLogger("featureflags.api")

# The product's reasons (spec/evaluation.md) in OpenFeature's words.
REASONS: dict[Reason, str] = {
    Reason.OFF: "DISABLED",
    Reason.ENVIRONMENT: "DISABLED",  # no targeting in this environment: off here
    Reason.SCHEDULE: "TARGETING_MATCH",
    Reason.PREREQUISITE: "TARGETING_MATCH",
    Reason.EXCLUDED: "TARGETING_MATCH",
    Reason.TARGETED: "TARGETING_MATCH",
    Reason.RULE: "TARGETING_MATCH",  # SPLIT when the rule has a percentage (ofrep_reason)
    Reason.CONSTRAINT: "TARGETING_MATCH",
    Reason.ROLLOUT: "SPLIT",
    Reason.GLOBAL: "STATIC",
    Reason.OVERRIDE: "STATIC",
    Reason.DEFAULT: "STATIC",  # no rules: the same answer for everyone
    Reason.NO_MATCH: "DEFAULT",  # no rule holds: the flag's fallback (ADR-0006 uses DEFAULT too)
}
MAX_ATTRIBUTES = 200
MAX_NAME = 100
MAX_TEXT = 1000
MAX_ID = 255  # as the evaluate endpoint's user_id
# Fields of the context that are not attributes: who is asking, and the signature of who.
_TARGETING_KEY = "targetingKey"
_USER_HASH = "userHash"


class OfrepError(exceptions.APIException):
    """An error in OFREP's shape: ``{"key"?, "errorCode", "errorDetails"}``."""

    def __init__(self, status: int, code: str, details: str, key: str | None = None) -> None:
        super().__init__(details)
        self.status_code = status
        self.error_code = code
        self.key = key


def ofrep_exception_handler(exc, context):
    """Every error answered in OFREP's shape; 401, 403 and 429 keep their status (and Retry-After)."""
    if isinstance(exc, OfrepError):
        body = {"errorCode": exc.error_code, "errorDetails": str(exc.detail)}
        if exc.key is not None:
            body = {"key": exc.key, **body}
        return Response(body, status=exc.status_code)
    if isinstance(exc, RecursionError):  # a body nested thousands deep
        return Response({"errorCode": "PARSE_ERROR", "errorDetails": "The request body is nested too deeply."}, 400)
    response = drf_handler(exc, context)
    if response is None:
        from .errors import exception_handler  # the database down (503), oversized bodies: the API's answers

        response = exception_handler(exc, context)
        if response is None:
            return None
        details = response.data.get("detail", "") if isinstance(response.data, Mapping) else ""
        response.data = {"errorCode": "GENERAL", "errorDetails": str(details)}
        return response
    code = "PARSE_ERROR" if isinstance(exc, (exceptions.ParseError, exceptions.ValidationError)) else "GENERAL"
    detail = getattr(exc, "detail", str(exc))
    response.data = {"errorCode": code, "errorDetails": _text(detail)}
    return response


def _text(detail: Any) -> str:
    if isinstance(detail, Mapping):
        return "; ".join(f"{name}: {_text(value)}" for name, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_text(item) for item in detail)
    return str(detail)


def claimed_context(data: Any, key: str | None = None) -> dict[str, Any]:
    """The request's ``context``, checked: an object with a non-empty string ``targetingKey``."""
    if not isinstance(data, Mapping):
        raise OfrepError(400, "PARSE_ERROR", 'The body is a JSON object: {"context": {...}}.', key)
    context = data.get("context", {})
    if not isinstance(context, Mapping):
        raise OfrepError(400, "INVALID_CONTEXT", "context is an object.", key)
    targeting_key = context.get(_TARGETING_KEY)
    if targeting_key is None or targeting_key == "":
        raise OfrepError(400, "TARGETING_KEY_MISSING", "context.targetingKey (the user id) is required.", key)
    if not isinstance(targeting_key, str) or len(targeting_key) > MAX_ID:
        raise OfrepError(400, "INVALID_CONTEXT", f"context.targetingKey is a string of at most {MAX_ID}.", key)
    if len(context) > MAX_ATTRIBUTES:
        raise OfrepError(400, "INVALID_CONTEXT", f"context has at most {MAX_ATTRIBUTES} entries.", key)
    for name, value in context.items():
        if len(name) > MAX_NAME or "\x00" in name:
            raise OfrepError(400, "INVALID_CONTEXT", f"context.{name[:MAX_NAME]}: a name of at most {MAX_NAME}.", key)
        if isinstance(value, (Mapping, list)):
            raise OfrepError(400, "INVALID_CONTEXT", f"context.{name}: a string, number or boolean.", key)
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise OfrepError(400, "INVALID_CONTEXT", f"context.{name}: at most {MAX_TEXT} characters.", key)
    return dict(context)


def server_context(claimed: Mapping[str, Any], key: str | None = None) -> Context | None:
    """A server-side caller's context: ``targetingKey`` is the user id, the rest as ``is_enabled`` reads it."""
    who = {k: v for k, v in claimed.items() if k not in (_TARGETING_KEY, _USER_HASH)}
    environment = who.get("environment")
    if environment is not None and (not isinstance(environment, str) or len(environment) > MAX_NAME):
        message = f"context.environment is a name of at most {MAX_NAME} characters."
        raise OfrepError(400, "INVALID_CONTEXT", message, key)
    return build_context({"user_id": claimed[_TARGETING_KEY], **who})


def caller_context(request, claimed: Mapping[str, Any], key: str | None = None) -> Context | None:
    """The context of this caller: as claimed for a server token, within the security rules for a public one."""
    if not is_public_caller(request):
        return server_context(claimed, key)
    signed = claimed.get(_USER_HASH) not in (None, "")
    attributes = {k: v for k, v in claimed.items() if k not in (_TARGETING_KEY, _USER_HASH, "anonymous_id")}
    try:
        return public_context(
            request,
            # Signed, the targeting key is the user; unsigned, it only names an anonymous visitor.
            user_id=claimed[_TARGETING_KEY] if signed else None,
            user_hash=claimed.get(_USER_HASH),
            anonymous_id=None if signed else claimed[_TARGETING_KEY],
            attributes=attributes,
        )
    except exceptions.PermissionDenied:
        raise
    except Exception as error:  # an attribute the context cannot hold
        raise OfrepError(400, "INVALID_CONTEXT", f"context: {error}", key) from None


def ofrep_reason(snapshot: Snapshot, flag: CompiledFlag, decision: Decision, context: Context | None) -> str:
    """OpenFeature's reason; a rule that let only part of its audience in (a rollout) is a ``SPLIT``."""
    if decision.reason is Reason.RULE and decision.rule is not None:
        environment = snapshot.deployment if context is None or context.environment is None else context.environment
        try:
            targeting = flag.targeting(environment)
        except LookupError:
            targeting = None
        for rule in targeting.rules if targeting is not None else ():
            if rule.id == decision.rule and rule.percentage < 100:
                return "SPLIT"
    return REASONS.get(decision.reason, "UNKNOWN")


def evaluation(
    key: str, decision: Decision, value_type: str, *, with_metadata: bool, reason: str | None = None
) -> dict[str, Any]:
    """One flag's OFREP answer: ``key``, ``reason``, ``variant``, ``metadata`` and ``value``
    (absent: the code default)."""
    result: dict[str, Any] = {"key": key, "reason": reason or REASONS.get(decision.reason, "UNKNOWN")}
    if value_type == "boolean":
        result["value"] = decision.enabled
    elif decision.enabled and decision.value is not None:
        result["value"] = decision.value
    # Always a variant: providers read it unconditionally (the Python one does).
    result["variant"] = decision.variant or ("on" if decision.enabled else "off")
    metadata: dict[str, Any] = {}
    if with_metadata:
        metadata = {"featureflagsReason": decision.reason.value, "enabled": decision.enabled}
        if decision.rule is not None:
            metadata["rule"] = decision.rule
    result["metadata"] = metadata
    return result


_REQUEST = inline_serializer(
    "OfrepEvaluationRequest",
    {"context": serializers.DictField(help_text="targetingKey (the user id), userHash (public keys), attributes")},
)
_FAILURE = inline_serializer(
    "OfrepEvaluationFailure",
    {
        "key": serializers.CharField(required=False),
        "errorCode": serializers.CharField(),
        "errorDetails": serializers.CharField(),
    },
)
_SUCCESS = inline_serializer(
    "OfrepEvaluationSuccess",
    {
        "key": serializers.CharField(),
        "value": serializers.JSONField(required=False),
        "reason": serializers.CharField(),
        "variant": serializers.CharField(),
        "metadata": serializers.DictField(),
    },
)


class ApiKeyHeaderAuthentication(BearerTokenAuthentication):
    """OFREP's other scheme: the token in ``X-API-Key`` (some providers send only that)."""

    def authenticate(self, request):
        secret = request.META.get("HTTP_X_API_KEY")
        if not secret:
            return None
        if not secret.isascii() or len(secret) > 200:
            raise exceptions.AuthenticationFailed("X-API-Key holds one ASCII token.")
        return self.authenticate_secret(secret.strip())


class _OfrepView(FlagsAPIView):
    scope = Scope.EVALUATE  # public keys and sessions get the public answer, see the module's docstring
    authentication_classes = [BearerTokenAuthentication, ApiKeyHeaderAuthentication, SessionAuthentication]
    throttle_classes = PUBLIC_THROTTLES
    parser_classes = [JSONParser]

    def get_exception_handler(self):
        return ofrep_exception_handler

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        request._featureflags_public = is_public_caller(request)


class OfrepFlagView(_OfrepView):
    """One flag for a context (server-side providers)."""

    @extend_schema(
        request=_REQUEST,
        responses={200: _SUCCESS, 400: _FAILURE, 404: _FAILURE},
        operation_id="ofrepEvaluateFlag",
    )
    def post(self, request, key: str):
        claimed = claimed_context(request.data, key)
        context = caller_context(request, claimed, key)
        snapshot = runtime.current()
        flag = snapshot.flags.get(key)
        if flag is None or (request._featureflags_public and not flag.client_side):
            raise OfrepError(404, "FLAG_NOT_FOUND", f"Flag {key!r} was not found.", key)
        decision = snapshot.evaluate(key, context)
        reason = ofrep_reason(snapshot, flag, decision, context)
        public = request._featureflags_public
        return Response(evaluation(key, decision, flag.value_type, with_metadata=not public, reason=reason))


class OfrepBulkView(_OfrepView):
    """Every flag the caller may see, for one context (web and mobile providers)."""

    @extend_schema(
        request=_REQUEST,
        parameters=[OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER, required=False)],
        responses={
            200: inline_serializer("OfrepBulkSuccess", {"flags": serializers.ListField(child=_SUCCESS)}),
            304: OpenApiResponse(description="Nothing changed since the ETag sent in If-None-Match."),
            400: _FAILURE,
        },
        operation_id="ofrepEvaluateFlagsBulk",
    )
    def post(self, request):
        claimed = claimed_context(request.data)
        context = caller_context(request, claimed)
        public = request._featureflags_public
        snapshot = runtime.current()
        flags = []
        for key in sorted(snapshot.flags):
            flag = snapshot.flags[key]
            if public and not flag.client_side:
                continue
            try:
                decision = snapshot.evaluate(key, context)
                reason = ofrep_reason(snapshot, flag, decision, context)
                flags.append(evaluation(key, decision, flag.value_type, with_metadata=not public, reason=reason))
            except Exception:  # one flag's failure must not cost the others theirs
                logger.exception("featureflags: OFREP evaluation of %r failed", key)
                flags.append({"key": key, "errorCode": "GENERAL", "errorDetails": "This flag could not be evaluated."})
        body = {"flags": flags}
        tag = etag_of(body)
        headers = {"ETag": tag, "Cache-Control": "private, no-cache", "Vary": "Authorization, Cookie"}
        if tag in if_none_match(request):
            return Response(status=304, headers=headers)
        return Response(body, headers=headers)


def etag_of(body: Mapping[str, Any]) -> str:
    """A strong ETag of the evaluated answer: the same flags and values, the same tag (whatever the
    snapshot's version)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:32] + '"'


def if_none_match(request) -> set[str]:
    header = request.headers.get("If-None-Match", "")
    return {part.strip().removeprefix("W/") for part in header.split(",") if part.strip()}
