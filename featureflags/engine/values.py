"""Variant values and their declared type (``spec/evaluation.md``: ``value_type``), shared by
both versions of a definition's validation."""

from __future__ import annotations

import json
import math
from typing import Any

from .limits import MAX_VALUE_BYTES

VALUE_TYPES = ("boolean", "string", "number", "json")


def value_problem(value: Any, value_type: str) -> str | None:
    """Why ``value`` cannot be a variant value of ``value_type`` (None: no value), or None."""
    if value is None:
        return None if value_type == "boolean" else f"A {value_type} flag's variants need a value."
    if value_type == "boolean" and not isinstance(value, bool):
        return f"Must be true or false, not {value!r}."
    if value_type == "string" and not isinstance(value, str):
        return f"Must be a string, not {value!r}."
    if value_type == "number" and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
    ):
        return f"Must be a finite number, not {value!r}."
    try:
        size = len(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        return "Must be JSON (objects, lists, strings, finite numbers, booleans, null)."
    return f"At most {MAX_VALUE_BYTES} bytes as JSON." if size > MAX_VALUE_BYTES else None
