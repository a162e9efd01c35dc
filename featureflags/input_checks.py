"""Text no database stores as given: refused up front, naming the field, instead of a 500.

PostgreSQL refuses a NUL character in text (even to compare with it), and a lone
surrogate (``"\\ud800"`` in JSON) cannot be encoded for any database. Query
strings, form fields and URL parts are checked by the dashboard, the admin and
the API before anything reads them; JSON bodies by ``featureflags.services``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_NUL = "\x00"
_SURROGATE = re.compile("[\ud800-\udfff]")

NUL_MESSAGE = "NUL characters are not allowed."
SURROGATE_MESSAGE = "Lone surrogates (text that is not valid Unicode) are not allowed."


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored, or None."""
    if _NUL in value:
        return NUL_MESSAGE
    if _SURROGATE.search(value):
        return SURROGATE_MESSAGE
    return None


def pairs_problems(pairs: Iterable[tuple[str, Any]]) -> dict[str, str]:
    """``{field: message}`` for each name or value that cannot be stored (names shown safely)."""
    problems: dict[str, str] = {}
    for name, value in pairs:
        values = value if isinstance(value, list) else [value]
        for item in [name, *values]:
            problem = text_problem(item) if isinstance(item, str) else None
            if problem:
                problems[_safe_name(name)] = problem
                break
    return problems


def hostile_params(request: Any, url_kwargs: Mapping[str, Any] | None = None, form: bool = True) -> dict[str, str]:
    """Problems of a Django request's query string, URL parts and (``form``) form fields."""
    pairs: list[tuple[str, Any]] = list((url_kwargs or {}).items())
    pairs += list(request.GET.lists())
    content_type = (getattr(request, "content_type", "") or "").split(";")[0].strip()
    form_types = ("application/x-www-form-urlencoded", "multipart/form-data")
    if form and request.method == "POST" and content_type in form_types:
        pairs += list(request.POST.lists())
    return pairs_problems(pairs)


def _safe_name(name: str) -> str:
    return name if text_problem(name) is None else repr(name.encode("utf-8", "backslashreplace"))[2:-1]
