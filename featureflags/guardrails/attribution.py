"""Which watched flags were evaluated on in the request being handled.

The guardrail middleware gives each request an empty list; ``usage.record``
appends a flag to it when the flag is on and watched (opted in). No Django import:
the hot path reads this.
"""

from __future__ import annotations

from contextvars import ContextVar

# None outside a request handled by ErrorGuardrailMiddleware.
evaluated_on: ContextVar[list[str] | None] = ContextVar("featureflags_evaluated_on", default=None)


def note(key: str) -> None:
    """Remember that ``key`` was on in the current request (if one is being watched)."""
    seen = evaluated_on.get()
    if seen is not None:
        seen.append(key)
