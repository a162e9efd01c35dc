"""The result of an evaluation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .reasons import Reason


@dataclass(frozen=True, slots=True)
class Decision:
    """``enabled``, the ``variant`` served (None when off or without variants), why, the typed
    ``value`` (None when off: the caller's default applies) and the id of the deciding ``rule``."""

    enabled: bool
    variant: str | None
    reason: Reason
    value: Any = None
    rule: str | None = None

    def __bool__(self) -> bool:
        return self.enabled

    def as_dict(self, with_value: bool = False) -> dict:
        """``enabled``, ``variant`` and ``reason``; ``with_value`` adds ``value`` and ``rule`` (version 2)."""
        result = {"enabled": self.enabled, "variant": self.variant, "reason": self.reason.value}
        if with_value:
            result["value"] = self.value
            result["rule"] = self.rule
        return result


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the contract as it applied to a context: ``outcome`` is
    ``"pass"`` (the step let evaluation go on), ``"decided"`` or ``"skipped"``."""

    name: str
    outcome: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Explanation:
    """A decision with the chain of steps that led to it."""

    key: str
    decision: Decision
    steps: tuple[Step, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            **self.decision.as_dict(),
            "steps": [{"name": s.name, "outcome": s.outcome, "detail": s.detail} for s in self.steps],
        }
