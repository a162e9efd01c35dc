"""One error body everywhere: ``{"error": code, "detail": text, "fields": {field: [messages]}}``.

A stale write (409) also carries ``"current"``: the flag as it is now.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from featureflags.services import FlagConflict, FlagNotFound


def error_body(code: str, detail: str, fields: dict[str, list[str]] | None = None, **extra: Any) -> dict[str, Any]:
    return {"error": code, "detail": detail, "fields": fields or {}, **extra}


def exception_handler(exc, context):
    if isinstance(exc, FlagNotFound):
        return Response(error_body("not_found", str(exc)), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, FlagConflict):
        return Response(error_body("conflict", str(exc), current=exc.current), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, RecursionError):  # a body nested thousands deep overflows the JSON parser: bad input, not a 500
        body = error_body("parse_error", "The request body is nested too deeply.")
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DatabaseError):  # PostgreSQL down: a clear, retryable answer, never a 500
        body = error_body("unavailable", "The flag database cannot be reached; try again shortly.")
        return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})
    if isinstance(exc, RequestDataTooBig):
        body = error_body(
            "too_large",
            "The request body is larger than this site accepts (DATA_UPLOAD_MAX_MEMORY_SIZE). "
            "Send long user lists as text/plain, one id per line: that body is streamed.",
        )
        return Response(body, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):
        return Response(error_body("bad_request", str(exc)), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(error_body("invalid", _summary(fields), fields), status=status.HTTP_400_BAD_REQUEST)
    response = drf_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        response.data = error_body("invalid", _summary(fields), fields)
    else:
        code = getattr(exc, "default_code", "error")
        detail = exc.detail if isinstance(getattr(exc, "detail", None), str) else str(exc)
        response.data = error_body(str(code), str(detail))
    return response


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"field.sub": [messages]}``."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for name, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{name}" if prefix else str(name)))
        return out
    if isinstance(detail, list) and detail and all(isinstance(d, (dict, list)) for d in detail):
        out = {}
        for index, value in enumerate(detail):
            out.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return out
    messages = [str(d) for d in detail] if isinstance(detail, list) else [str(detail)]
    return {prefix or "non_field_errors": messages}


def _summary(fields: dict[str, list[str]]) -> str:
    return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in fields.items()) or "Invalid input."
