"""An immutable, compiled set of flags and segments, and the evaluator of the contract."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from time import time
from typing import Any

from . import by_id
from .by_id import IdDecider, IdVariant, context_of_id
from .context import Context
from .decision import Decision, Explanation, Step
from .definition import find_cycles
from .flag import CompiledFlag
from .limits import MAX_PREREQUISITE_DEPTH
from .reasons import Reason
from .targeting import CompiledRule, CompiledSegment, CompiledTargeting, compile_segment, explain_rule

# Prebuilt results so the hot path allocates nothing: (enabled, reason, deciding rule).
_ENVIRONMENT = (False, Reason.ENVIRONMENT, None)
_OFF = (False, Reason.OFF, None)
_SCHEDULE = (False, Reason.SCHEDULE, None)
_PREREQUISITE = (False, Reason.PREREQUISITE, None)
_GLOBAL = (True, Reason.GLOBAL, None)
_EXCLUDED = (False, Reason.EXCLUDED, None)
_TARGETED = (True, Reason.TARGETED, None)
_DEFAULT = (True, Reason.DEFAULT, None)
_NO_MATCH = (False, Reason.NO_MATCH, None)
_UNKNOWN = Decision(False, None, Reason.UNKNOWN_FLAG)
_OFF_DECISIONS = {reason: Decision(False, None, reason) for reason in Reason}
_NOT_COMPILED = object()
DEFAULT_ENVIRONMENT = "default"


class Snapshot:
    """All flags and segments at one ``version``, compiled for the deployment's ``environment``
    (None: ``default``); share it freely between threads. A decision for another environment
    (``Context(environment=...)``) compiles that environment's targeting on first use.

    >>> snapshot = Snapshot.from_definitions([{"key": "new_ui", "enabled": True, "percentage": 30}])
    >>> snapshot.evaluate("new_ui", Context(user_id="123")).reason
    <Reason.NO_MATCH: 'NO_MATCH'>
    """

    __slots__ = (
        "_cyclic",
        "_environment_segments",
        "deployment",
        "environment",
        "environments",
        "flags",
        "segments",
        "version",
    )

    def __init__(
        self,
        flags: Mapping[str, CompiledFlag],
        version: int = 0,
        environment: str | None = None,
        segments: Mapping[str, Mapping[str, Any] | CompiledSegment] | Iterable[Any] | None = None,
    ) -> None:
        self.flags: dict[str, CompiledFlag] = dict(flags)
        self.version = version
        self.environment = environment
        self.deployment: str = environment or DEFAULT_ENVIRONMENT
        if segments is None:
            segments = {}
        elif not isinstance(segments, Mapping):
            segments = {s.key if isinstance(s, CompiledSegment) else s["key"]: s for s in segments}
        self.segments: dict[str, CompiledSegment] = {key: compile_segment(s) for key, s in segments.items()}
        self._environment_segments = frozenset(k for k, s in self.segments.items() if s.reads_environment)
        # Only flags with prerequisites can be on a cycle: 10,000 flags allocate nothing here.
        graph = {
            key: {"prerequisites": [{"key": p[0]} for p in f.prerequisites]}
            for key, f in self.flags.items()
            if f.prerequisites
        }
        self._cyclic = frozenset(key for cycle in find_cycles(graph) for key in cycle)
        deployment = self.deployment
        # The environments that exist: the deployment's, ``default`` and every flag's (a version-1
        # flag's list), as engine/v1.py's migration makes them. Any other name has no targeting.
        known = {deployment, DEFAULT_ENVIRONMENT}
        collecting = gc.isenabled()
        gc.disable()  # compiling allocates only what it keeps: collections would walk it all, for nothing
        try:
            for flag in self.flags.values():
                known.update(flag.environments)
                flag.targeting(deployment)  # the deployment's environment is compiled in
                flag.release(deployment)
        finally:
            if collecting:
                gc.enable()
        self.environments = frozenset(known)

    @classmethod
    def from_definitions(
        cls,
        definitions: Iterable[Mapping[str, Any]],
        version: int = 0,
        environment: str | None = None,
        segments: Iterable[Mapping[str, Any]] | None = None,
    ) -> Snapshot:
        """A snapshot of version-1 or version-2 definitions (validated) and segments."""
        return cls({d["key"]: CompiledFlag(d) for d in definitions}, version, environment, segments)

    def replace(
        self,
        changed: Iterable[CompiledFlag] = (),
        removed: Iterable[str] = (),
        version: int | None = None,
        environment: str | None = None,
        segments: Mapping[str, Mapping[str, Any] | CompiledSegment] | None = None,
    ) -> Snapshot:
        """A new snapshot with some flags swapped in or taken out (and, given, new segments)."""
        flags = dict(self.flags)
        for key in removed:
            flags.pop(key, None)
        for flag in changed:
            flags[flag.key] = flag
        return Snapshot(
            flags,
            self.version if version is None else version,
            self.environment if environment is None else environment,
            self.segments if segments is None else segments,
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
        environment = self.deployment if context is None or context.environment is None else context.environment
        if environment is not self.deployment and environment not in self.environments:
            return False
        return self._decide(flag, context, environment, None, 0)[0]

    def evaluate(self, key: str, context: Context | None = None) -> Decision:
        """The decision of the contract for flag ``key`` and ``context`` (None: the global switch)."""
        flag = self.flags.get(key)
        if flag is None:
            return _UNKNOWN
        environment = self.deployment if context is None or context.environment is None else context.environment
        if environment is not self.deployment and environment not in self.environments:
            return _OFF_DECISIONS[Reason.ENVIRONMENT]
        enabled, reason, rule = self._decide(flag, context, environment, None, 0)
        if not enabled:
            return _OFF_DECISIONS[reason]
        variant, value = self._variant(flag, flag.targeting(environment), rule, context)  # type: ignore[arg-type]
        return Decision(True, variant, reason, value, None if rule is None else rule.id)

    def variant(self, key: str, context: Context | None = None) -> str | None:
        flag = self.flags.get(key)
        if flag is None:
            return None
        environment = self.deployment if context is None or context.environment is None else context.environment
        if environment is not self.deployment and environment not in self.environments:
            return None
        enabled, _reason, rule = self._decide(flag, context, environment, None, 0)
        if not enabled:
            return None
        return self._variant(flag, flag.targeting(environment), rule, context)[0]  # type: ignore[arg-type]

    def value(self, key: str, context: Context | None = None, default: Any = None) -> Any:
        """The typed value served to ``context``; ``default`` when the flag is off or unknown."""
        decision = self.evaluate(key, context)
        return decision.value if decision.enabled and decision.value is not None else default

    def id_decider(self, key: str) -> IdDecider | None:
        """``user_id -> enabled`` for flag ``key`` in the deployment's environment (None if unknown);
        ids as Context keeps them (ASCII)."""
        flag = self.flags.get(key)
        if flag is None:
            return None
        environment = self.deployment
        decide = self._decide

        def general(user_id: str) -> bool:
            return decide(flag, context_of_id(user_id), environment, None, 0)[0]

        return by_id.id_decider(
            flag.targeting(environment), bool(flag.prerequisites), general, self.segments, environment
        )

    def id_variant(self, key: str, decide: IdDecider) -> IdVariant | None:
        """``user_id -> variant or None`` for flag ``key``, given its :meth:`id_decider`."""
        flag = self.flags.get(key)
        if flag is None:
            return None
        variant = self.variant

        def general(user_id: str) -> str | None:
            return variant(key, context_of_id(user_id))

        return by_id.id_variant(
            flag.targeting(self.deployment), flag.variants, decide, general, bool(flag.prerequisites)
        )

    def _decide(
        self, flag: CompiledFlag, context: Context | None, environment: str, memo: dict | None, depth: int
    ) -> tuple[bool, Reason, CompiledRule | None]:
        targeting = flag.targetings.get(environment, _NOT_COMPILED)
        if targeting is _NOT_COMPILED:
            targeting = flag.targeting(environment)
        if targeting is None:
            return _ENVIRONMENT
        if not targeting.enabled:
            return _OFF
        if targeting.has_schedule and not targeting.in_window(time()):
            return _SCHEDULE
        if flag.prerequisites and not self._prerequisites_hold(flag, context, environment, memo, depth):
            return _PREREQUISITE
        if context is None:
            return _GLOBAL
        user_id = context.user_id
        if user_id is not None:
            if targeting.excluded is not None and targeting.excluded(user_id):
                return _EXCLUDED
            if targeting.targeted is not None and targeting.targeted(user_id):
                return _TARGETED
        if not targeting.steps:
            return _DEFAULT
        if context.environment is None and self._reads_environment(targeting):
            context = context.replace(environment=environment)  # constraints see the deployment's environment
        rule = targeting.first_rule(context, self.segments)
        return _NO_MATCH if rule is None else rule.decided

    def _reads_environment(self, targeting: CompiledTargeting) -> bool:
        return targeting.reads_environment or bool(
            self._environment_segments and targeting.segment_keys & self._environment_segments
        )

    def _variant(
        self, flag: CompiledFlag, targeting: CompiledTargeting, rule: CompiledRule | None, context: Context | None
    ) -> tuple[str | None, Any]:
        """The variant and value of an "on" decision: pinned, else the rule's variants, else the flag's."""
        if targeting.pinned and context is not None and context.user_id is not None:
            pinned = targeting.pinned.get(context.user_id)
            if pinned is not None:
                return pinned, targeting.value_by_name.get(pinned, True)
        variants = rule.variants if rule is not None and rule.variants is not None else flag.variants
        if variants is None:
            return None, True if flag.value_type == "boolean" else None
        index = variants.index_for(context)
        return variants.names[index], variants.values[index]

    def _prerequisites_hold(
        self, flag: CompiledFlag, context: Context | None, environment: str, memo: dict | None, depth: int
    ) -> bool:
        if flag.key in self._cyclic or depth >= MAX_PREREQUISITE_DEPTH:
            return False
        if memo is None:
            memo = {}  # one per decision: each flag of the graph is decided once
        for parent_key, must_be_on, variants in flag.prerequisites:
            result = memo.get(parent_key)
            if result is None:
                parent = self.flags.get(parent_key)
                if parent is None:
                    return False
                enabled, _reason, rule = self._decide(parent, context, environment, memo, depth + 1)
                chosen = None
                if enabled:
                    chosen = self._variant(parent, parent.targeting(environment), rule, context)[0]  # type: ignore[arg-type]
                result = memo[parent_key] = (enabled, chosen)
            enabled, chosen = result
            if must_be_on:
                if not enabled or (variants is not None and chosen not in variants):
                    return False
            elif enabled:
                return False
        return True

    # -- explanations ---------------------------------------------------------

    def explain(self, key: str, context: Context | None = None) -> Explanation:
        """The decision with every step of the contract as it applied."""
        decision = self.evaluate(key, context)
        flag = self.flags.get(key)
        if flag is None:
            return Explanation(key, decision, (Step("exists", "decided", f"No flag is called {key!r}."),))
        environment = self.deployment if context is None or context.environment is None else context.environment
        if environment not in self.environments:
            detail = f"Environment {environment!r} does not exist."
            return Explanation(key, decision, (Step("environment", "decided", detail),))
        return Explanation(key, decision, tuple(self._steps(flag, context, environment, decision)))

    def _steps(self, flag: CompiledFlag, context: Context | None, environment: str, decision: Decision) -> list[Step]:
        steps: list[Step] = []
        reason = decision.reason

        def add(name: str, decided: bool, detail: str) -> bool:
            steps.append(Step(name, "decided" if decided else "pass", detail))
            return decided

        targeting = flag.targeting(environment)
        if add(
            "environment",
            targeting is None,
            f"Environment {environment!r}: "
            + ("the flag has no targeting there." if targeting is None else "the flag has a targeting there."),
        ):
            return steps
        assert targeting is not None
        if add(
            "switch",
            reason is Reason.OFF,
            f"The switch in {environment!r} is " + ("on." if targeting.enabled else "off (kill switch)."),
        ):
            return steps
        if targeting.has_schedule and add("schedule", reason is Reason.SCHEDULE, _schedule_detail(targeting)):
            return steps
        if flag.prerequisites and add(
            "prerequisites", reason is Reason.PREREQUISITE, self._prerequisite_detail(flag, context, environment)
        ):
            return steps
        if add("context", reason is Reason.GLOBAL, _context_detail(context)):
            return steps
        assert context is not None
        user_id = context.user_id
        for name, present, decided_as, words in (
            ("excluded_users", targeting.excluded, Reason.EXCLUDED, f"excluded ({targeting.excluded_count} ids)"),
            ("users", targeting.targeted, Reason.TARGETED, f"in the list of {targeting.user_count} users"),
        ):
            if present is None:
                continue
            if user_id is None:
                steps.append(Step(name, "skipped", "No user id in the context."))
            elif add(
                name, reason is decided_as, f"User {user_id!r} is {'' if reason is decided_as else 'not '}{words}."
            ):
                return steps
        if not targeting.rules:
            add("rules", True, "No rules: on for everyone.")
            return steps
        if context.environment is None and self._reads_environment(targeting):
            context = context.replace(environment=environment)
        for rule in targeting.rules:
            holds, detail = explain_rule(rule, context, self.segments)
            if add(f"rule {rule.id}", holds, detail):
                return steps
        add("rules", True, "No rule holds: off.")
        return steps

    def _prerequisite_detail(self, flag: CompiledFlag, context: Context | None, environment: str) -> str:
        if flag.key in self._cyclic:
            return "The prerequisites form a cycle."
        parts = []
        for parent_key, must_be_on, variants in flag.prerequisites:
            if parent_key not in self.flags:
                parts.append(f"{parent_key}: no such flag")
                continue
            parent = self.evaluate(parent_key, context if context is None else context.replace(environment=environment))
            wanted = "on" if must_be_on else "off"
            if variants:
                wanted += " with variant " + " or ".join(repr(v) for v in sorted(variants))
            state = (
                "off" if not parent.enabled else "on" if parent.variant is None else f"on, variant {parent.variant!r}"
            )
            parts.append(f"{parent_key} must be {wanted}: it is {state} ({parent.reason.value})")
        return "; ".join(parts) + "."

    def constrained_attributes(self) -> frozenset[str]:
        """Attribute names that some rule, segment or stickiness setting reads (deployment's environment)."""
        names: set[str] = set()
        for flag in self.flags.values():
            names.add(flag.stickiness)
            targeting = flag.targeting(self.deployment)
            for rule in targeting.rules if targeting is not None else ():
                names.add(rule.stickiness)
                names.update(spec.get("attribute") for spec in rule.constraint_specs)
        for segment in self.segments.values():
            names.update(spec.get("attribute") for spec in segment.constraint_specs)
        return frozenset(n for n in names if isinstance(n, str))


def _schedule_detail(targeting: CompiledTargeting) -> str:
    def show(ts: float | None) -> str:
        return "-" if ts is None else datetime.fromtimestamp(ts, tz=UTC).isoformat()

    state = "inside" if targeting.in_window(time()) else "outside"
    return f"Now is {state} the window {show(targeting.start_at)} .. {show(targeting.end_at)}."


def _context_detail(context: Context | None) -> str:
    if context is None:
        return "No context: the global switch decides."
    user = "no user id" if context.user_id is None else f"user {context.user_id!r}"
    anonymous = "no anonymous id" if context.anonymous_id is None else f"anonymous id {context.anonymous_id!r}"
    return f"Context: {user}, {anonymous}."


__all__ = ["Snapshot"]
