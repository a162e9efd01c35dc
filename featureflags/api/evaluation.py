"""Decisions for API callers: a context from request data, and many flags against one snapshot."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from featureflags.context import build_context
from featureflags.engine import Context, Decision
from featureflags.store import runtime


def context_from_data(data: Mapping[str, Any] | None) -> Context | None:
    """``{"user_id", "anonymous_id", "environment", "attributes"}`` -> a Context (None when empty).

    >>> context_from_data({"user_id": "42", "attributes": {"region": "US"}}).get("region")
    'US'
    """
    if not data:
        return None
    who = {
        "user_id": data.get("user_id"),
        "anonymous_id": data.get("anonymous_id"),
        **dict(data.get("attributes") or {}),
    }
    return build_context(who, data.get("environment"), None)


def decisions(keys: Iterable[str] | None, context: Context | None) -> tuple[int, dict[str, Decision]]:
    """The snapshot's version and a decision per key (every flag when ``keys`` is None)."""
    snapshot = runtime.current()
    wanted = sorted(snapshot.flags) if keys is None else list(dict.fromkeys(keys))
    return snapshot.version, {key: snapshot.evaluate(key, context) for key in wanted}
