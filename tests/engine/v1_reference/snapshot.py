"""An immutable, compiled set of flags and the evaluator of the contract."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC
from time import time
from typing import Any

import mmh3

from featureflags.engine.context import Context
from featureflags.engine.decision import Decision, Explanation, Step
from featureflags.engine.definition import find_cycles, prerequisite_keys
from featureflags.engine.reasons import Reason

from .by_id import IdDecider, id_decider
from .flag import CompiledFlag

# Prebuilt results so the hot path allocates nothing.
_OFF = (False, Reason.OFF)
_ENVIRONMENT = (False, Reason.ENVIRONMENT)
_SCHEDULE = (False, Reason.SCHEDULE)
_PREREQUISITE = (False, Reason.PREREQUISITE)
_GLOBAL = (True, Reason.GLOBAL)
_EXCLUDED = (False, Reason.EXCLUDED)
_TARGETED = (True, Reason.TARGETED)
_RULE = (True, Reason.RULE)
_CONSTRAINT = (False, Reason.CONSTRAINT)
_ROLLOUT_ON = (True, Reason.ROLLOUT)
_ROLLOUT_OFF = (False, Reason.ROLLOUT)
_UNKNOWN = Decision(False, None, Reason.UNKNOWN_FLAG)
murmur3_32 = mmh3.hash  # the contract's murmur3 bucket, as engine/hashing.py computes it
# Deeper chains than this are treated as cycles; writes refuse both.
MAX_PREREQUISITE_DEPTH = 32


class Snapshot:
    """All flags at one ``version``, compiled; share it freely between threads.

    >>> snapshot = Snapshot.from_definitions([{"key": "new_ui", "enabled": True, "percentage": 30}])
    >>> snapshot.evaluate("new_ui", Context(user_id="123")).reason
    <Reason.ROLLOUT: 'ROLLOUT'>
    """

    __slots__ = ("_cyclic", "environment", "flags", "version")

    def __init__(self, flags: Mapping[str, CompiledFlag], version: int = 0, environment: str | None = None) -> None:
        self.flags: dict[str, CompiledFlag] = dict(flags)
        self.version = version
        self.environment = environment
        # Only flags with prerequisites can be on a cycle: 10,000 flags allocate nothing here.
        graph = {
            key: {"prerequisites": [{"key": k} for k, _ in f.prerequisites]}
            for key, f in self.flags.items()
            if f.prerequisites
        }
        self._cyclic = frozenset(key for cycle in find_cycles(graph) for key in cycle)

    @classmethod
    def from_definitions(
        cls, definitions: Iterable[Mapping[str, Any]], version: int = 0, environment: str | None = None
    ) -> Snapshot:
        return cls({d["key"]: CompiledFlag(d) for d in definitions}, version, environment)

    def replace(
        self,
        changed: Iterable[CompiledFlag] = (),
        removed: Iterable[str] = (),
        version: int | None = None,
        environment: str | None = None,
    ) -> Snapshot:
        """A new snapshot with some flags swapped in or taken out."""
        flags = dict(self.flags)
        for key in removed:
            flags.pop(key, None)
        for flag in changed:
            flags[flag.key] = flag
        return Snapshot(
            flags,
            self.version if version is None else version,
            self.environment if environment is None else environment,
        )

    def __contains__(self, key: str) -> bool:
        return key in self.flags

    def __len__(self) -> int:
        return len(self.flags)

    # -- the hot path ---------------------------------------------------------

    def is_enabled(self, key: str, context: Context | None = None, default: bool = False) -> bool:
        flag = self.flags.get(key)
        if flag is None:
            return default
        return self._decide(flag, context, 0)[0]

    def evaluate(self, key: str, context: Context | None = None) -> Decision:
        """The decision of the contract for flag ``key`` and ``context`` (None: the global switch)."""
        flag = self.flags.get(key)
        if flag is None:
            return _UNKNOWN
        enabled, reason = self._decide(flag, context, 0)
        return Decision(enabled, flag.variant_for(context) if enabled else None, reason)

    def variant(self, key: str, context: Context | None = None) -> str | None:
        flag = self.flags.get(key)
        if flag is None or not self._decide(flag, context, 0)[0]:
            return None
        return flag.variant_for(context)

    def id_decider(self, key: str) -> IdDecider | None:
        """``user_id -> enabled`` for flag ``key`` (None if unknown); ids as Context keeps them (ASCII)."""
        flag = self.flags.get(key)
        return None if flag is None else id_decider(flag, self)

    def _decide(self, flag: CompiledFlag, context: Context | None, depth: int) -> tuple[bool, Reason]:
        if not flag.enabled:
            return _OFF
        if flag.environments is not None:
            environment = context.environment if context is not None else None
            if (self.environment if environment is None else environment) not in flag.environments:
                return _ENVIRONMENT
        if flag.has_schedule and not _in_window(flag, time()):
            return _SCHEDULE
        if flag.prerequisites and not self._prerequisites_hold(flag, context, depth):
            return _PREREQUISITE
        if context is None:
            return _GLOBAL
        user_id = context.user_id
        if user_id is not None:
            if flag.excluded is not None and flag.excluded(user_id):
                return _EXCLUDED
            if flag.targeted is not None and flag.targeted(user_id):
                return _TARGETED
            if flag.rules is not None and flag.rules(user_id):
                return _RULE
        for check in flag.constraints:
            if not check(context):
                return _CONSTRAINT
        percentage = flag.percentage
        if percentage >= 100:
            return _ROLLOUT_ON
        if percentage <= 0:
            return _ROLLOUT_OFF
        # sticky_value inlined for the common case
        value = context.user_id or context.anonymous_id if flag.stickiness == "default" else flag.sticky_value(context)
        if not value:
            return _ROLLOUT_OFF
        if flag.bucketing == "murmur3":
            in_rollout = murmur3_32(flag.salt_prefix + value, 0, False) % 100 + 1 <= percentage
        else:
            in_rollout = flag.in_rollout(value)
        return _ROLLOUT_ON if in_rollout else _ROLLOUT_OFF

    def _prerequisites_hold(self, flag: CompiledFlag, context: Context | None, depth: int) -> bool:
        if flag.key in self._cyclic or depth >= MAX_PREREQUISITE_DEPTH:
            return False
        for parent_key, required_variant in flag.prerequisites:
            parent = self.flags.get(parent_key)
            if parent is None or not self._decide(parent, context, depth + 1)[0]:
                return False
            if required_variant is not None and parent.variant_for(context) != required_variant:
                return False
        return True

    # -- explanations ---------------------------------------------------------

    def explain(self, key: str, context: Context | None = None) -> Explanation:
        """The decision with every step of the contract as it applied."""
        decision = self.evaluate(key, context)
        flag = self.flags.get(key)
        if flag is None:
            return Explanation(key, decision, (Step("exists", "decided", f"No flag is called {key!r}."),))
        return Explanation(key, decision, tuple(self._steps(flag, context, decision)))

    def _steps(self, flag: CompiledFlag, context: Context | None, decision: Decision) -> list[Step]:
        steps: list[Step] = []
        reason = decision.reason

        def add(name: str, decided: bool, detail: str) -> bool:
            steps.append(Step(name, "decided" if decided else "pass", detail))
            return decided

        if add("switch", reason is Reason.OFF, "The switch is " + ("on." if flag.enabled else "off (kill switch).")):
            return steps
        environment = context.environment if context is not None else None
        if environment is None:  # as _decide: only an absent environment falls back to the snapshot's
            environment = self.environment
        if flag.environments is None:
            add("environment", False, "The flag is allowed in every environment.")
        elif add(
            "environment",
            reason is Reason.ENVIRONMENT,
            f"Environment {environment!r}; allowed: {', '.join(sorted(flag.environments))}.",
        ):
            return steps
        if flag.has_schedule and add("schedule", reason is Reason.SCHEDULE, _schedule_detail(flag)):
            return steps
        if flag.prerequisites and add(
            "prerequisites", reason is Reason.PREREQUISITE, self._prerequisite_detail(flag, context)
        ):
            return steps
        if add("context", reason is Reason.GLOBAL, _context_detail(context)):
            return steps
        assert context is not None
        user_id = context.user_id
        if user_id is None:  # as _decide: without a user id the three user steps do not apply
            for name, present in (("excluded_users", flag.excluded), ("users", flag.targeted), ("rules", flag.rules)):
                if present is not None:
                    steps.append(Step(name, "skipped", "No user id in the context."))
        elif flag.excluded is not None and add(
            "excluded_users",
            reason is Reason.EXCLUDED,
            f"User {user_id!r} is {'' if reason is Reason.EXCLUDED else 'not '}excluded.",
        ):
            return steps
        if (
            user_id is not None
            and flag.targeted is not None
            and add(
                "users",
                reason is Reason.TARGETED,
                f"User {user_id!r} is {'' if reason is Reason.TARGETED else 'not '}"
                f"in the list of {flag.user_count} users.",
            )
        ):
            return steps
        if user_id is not None and flag.rules is not None:
            matched = flag.rules(user_id) or []
            patterns = ", ".join(repr(flag.rule_patterns[i]) for i in sorted(matched))
            detail = f"Rule {patterns} matches {user_id!r}." if matched else f"No rule matches {user_id!r}."
            if add("rules", reason is Reason.RULE, detail):
                return steps
        for spec, check in zip(flag.constraint_specs, flag.constraints):
            held = check(context)
            attribute = spec.get("attribute")
            value = context.get(attribute) if isinstance(attribute, str) else None
            detail = (
                f"{attribute} {'NOT ' if spec.get('inverted') else ''}{spec.get('operator')} "
                f"{spec.get('values', [])}: {'holds' if held else 'fails'} for {value!r}."
            )
            if add("constraint", not held, detail):
                return steps
        value = flag.sticky_value(context)
        if value is None:
            detail = f"No value to hash ({flag.stickiness}); only 100 % is on; the flag is at {flag.percentage} %."
        else:
            limit = {"crc32": "<", "crc32_inv": ">="}.get(flag.bucketing, "<=")
            detail = f"Bucket {flag.bucket(value)} of {value!r} ({flag.bucketing}) {limit} {flag.percentage} %?"
        add("rollout", True, detail + (" In." if decision.enabled else " Out."))
        return steps

    def _prerequisite_detail(self, flag: CompiledFlag, context: Context | None) -> str:
        if flag.key in self._cyclic:
            return "The prerequisites form a cycle."
        parts = []
        for parent_key, required_variant in flag.prerequisites:
            parent = self.evaluate(parent_key, context)
            wanted = f" with variant {required_variant!r}" if required_variant else ""
            parts.append(f"{parent_key}{wanted}: {'on' if parent.enabled else 'off'} ({parent.reason.value})")
        return "; ".join(parts) + "."


def _in_window(flag: CompiledFlag, now: float) -> bool:
    if flag.start_at is not None and now < flag.start_at:
        return False
    return flag.end_at is None or now < flag.end_at


def _schedule_detail(flag: CompiledFlag) -> str:
    from datetime import datetime

    def show(ts: float | None) -> str:
        return "-" if ts is None else datetime.fromtimestamp(ts, tz=UTC).isoformat()

    state = "inside" if _in_window(flag, time()) else "outside"
    return f"Now is {state} the window {show(flag.start_at)} .. {show(flag.end_at)}."


def _context_detail(context: Context | None) -> str:
    if context is None:
        return "No context: the global switch decides."
    return f"Context: user {context.user_id!r}, anonymous {context.anonymous_id!r}."


__all__ = ["Snapshot", "prerequisite_keys"]
