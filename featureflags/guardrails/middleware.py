"""Error attribution: an exception raised while handling a request counts against
each watched flag that was evaluated on during that request.

MIDDLEWARE = [
    ...,
    "featureflags.guardrails.middleware.ErrorGuardrailMiddleware",  # as high as you like
]

Which flags are watched: ``GUARDRAIL_FLAGS`` (default: every flag with an
``error_threshold``); which exceptions count: ``GUARDRAIL_EXCEPTIONS`` minus
``GUARDRAIL_IGNORED_EXCEPTIONS``. A view's exception is seen by
``process_exception`` (sync and async); one raised by a middleware below this one,
through Django's ``got_request_exception`` signal. Each exception counts once.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.core.signals import got_request_exception

from .. import usage
from . import flusher, limits
from .attribution import evaluated_on
from .errors import counts_against_flag, report_error

logger = logging.getLogger("featureflags.guardrails")


class ErrorGuardrailMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        usage.enable_attribution()
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if iscoroutinefunction(self):
            return self._acall(request)
        _prepare()
        token = evaluated_on.set([])
        try:
            return self.get_response(request)
        finally:
            evaluated_on.reset(token)

    def process_exception(self, request: Any, exception: Exception) -> None:
        count_exception(exception)  # never handles it: Django goes on as without this middleware

    async def _acall(self, request: Any) -> Any:
        if limits._table is None:
            await sync_to_async(_prepare)()  # the first read of the limits touches the database
        else:
            _prepare()
        token = evaluated_on.set([])
        try:
            return await self.get_response(request)
        finally:
            evaluated_on.reset(token)


def _prepare() -> None:
    flusher.ensure_started()
    if not usage.watched and limits._table is None:
        usage.update_watched(limits.table())  # once per process, before the flusher has run


def attribute_exception(sender: Any = None, request: Any = None, **kwargs: Any) -> None:
    """``got_request_exception`` receiver (sync requests: the exception is the one being handled)."""
    exception = sys.exc_info()[1]
    if exception is not None:
        count_exception(exception)


def count_exception(exception: BaseException) -> None:
    """Count ``exception`` against the watched flags that were on in this request, once."""
    keys = evaluated_on.get()
    if not keys or getattr(exception, "_featureflags_counted", False):
        return
    try:
        if not counts_against_flag(exception):
            return
        exception._featureflags_counted = True  # seen again by the signal after process_exception
    except Exception:  # a bad GUARDRAIL_EXCEPTIONS setting must not break error handling
        logger.exception("featureflags: cannot tell whether %r counts against a flag", exception)
        return
    for key in dict.fromkeys(keys):
        report_error(key)


got_request_exception.connect(attribute_exception, dispatch_uid="featureflags.guardrails.attribute_exception")
