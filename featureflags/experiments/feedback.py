"""``feedback("key", who, rating=None, text="")``: store what a user said with the variant they had."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from .. import overrides
from ..context import build_context
from ..engine.definition import is_valid_key
from ..store import runtime
from .exposures import unit_of
from .models import Feedback

MAX_TEXT = 5000


def feedback(key: str, who: Any, rating: int | None = None, text: str = "") -> Feedback:
    """Store feedback on flag ``key`` from ``who``; the variant is the one served to them now.

    Raises Django's ``ValidationError`` naming the field (``key``, ``rating``, ``text``).

    >>> featureflags.feedback("new_checkout", request, rating=4, text="Faster!")
    <Feedback: new_checkout (B): 4>
    """
    errors = {}
    if not isinstance(key, str) or not is_valid_key(key):
        errors["key"] = "A flag key: 1-100 ASCII letters, digits, '_', '-' or '.'."
    if rating is not None and (isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5):
        errors["rating"] = f"A whole number from 1 to 5, or none; not {rating!r}."
    if not isinstance(text, str):
        errors["text"] = "Text."
    elif len(text) > MAX_TEXT:
        errors["text"] = f"At most {MAX_TEXT} characters."
    elif rating is None and not text.strip():
        errors["text"] = "Give a rating or some text."
    if errors:
        raise ValidationError(errors)
    context = build_context(who, None, None)
    # Not decisions.evaluate: giving feedback is not being served a variant (no exposure).
    decision = overrides.lookup(key) if overrides.active else None
    if decision is None:
        decision = runtime.current().evaluate(key, context)
    return Feedback.objects.create(
        flag_key=key,
        unit=unit_of(context) or "",
        variant=decision.variant or "",
        enabled=decision.enabled,
        rating=rating,
        text=text.strip(),
    )
