"""An OpenFeature provider (``openfeature-sdk``) over this product's evaluator.

    from openfeature import api
    from featureflags.openfeature import FeatureFlagsProvider

    api.set_provider(FeatureFlagsProvider())
    client = api.get_client()
    client.get_boolean_value("new_ui", False, EvaluationContext("42", {"region": "US"}))
    client.get_string_value("checkout_layout", "single_page", EvaluationContext("42"))  # the value
    client.get_integer_value("page_size", 20, EvaluationContext("42"))

The targeting key is the user id; the attributes ``anonymous_id`` and
``environment`` fill those fields and the rest become attributes. Each type
resolves from the flag's ``value_type`` (``boolean``, ``string``, ``number`` for
integers and floats, ``json`` for objects); another type answers the default with
``TYPE_MISMATCH``. A boolean flag with variants also resolves as a string: its
variant's name (version 1's meaning). ``flag_metadata`` has ``featureflags_reason``,
``enabled`` and, when a rule decided, its id as ``rule``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails, FlagValueType
from openfeature.flag_evaluation import Reason as OFReason
from openfeature.provider import AbstractProvider, Metadata

from .engine import Context, Decision, Reason
from .store import runtime

# Our reasons in OpenFeature's words: a rollout is a split, the global answer is static.
REASONS: dict[Reason, OFReason] = {
    Reason.OFF: OFReason.DISABLED,
    Reason.GLOBAL: OFReason.STATIC,
    Reason.OVERRIDE: OFReason.STATIC,
    Reason.ROLLOUT: OFReason.SPLIT,
    Reason.ENVIRONMENT: OFReason.TARGETING_MATCH,
    Reason.SCHEDULE: OFReason.TARGETING_MATCH,
    Reason.PREREQUISITE: OFReason.TARGETING_MATCH,
    Reason.EXCLUDED: OFReason.TARGETING_MATCH,
    Reason.TARGETED: OFReason.TARGETING_MATCH,
    Reason.RULE: OFReason.TARGETING_MATCH,
    Reason.DEFAULT: OFReason.STATIC,  # no rules: on for everyone
    Reason.NO_MATCH: OFReason.DEFAULT,  # no rule holds: the caller's default
    Reason.CONSTRAINT: OFReason.TARGETING_MATCH,
    Reason.UNKNOWN_FLAG: OFReason.ERROR,
}


def to_context(evaluation_context: EvaluationContext | None) -> Context | None:
    """OpenFeature's context as ours; None (the global question) when it holds nothing.

    >>> to_context(EvaluationContext("42", {"region": "US"})).user_id
    '42'
    """
    if evaluation_context is None or not (evaluation_context.targeting_key or evaluation_context.attributes):
        return None
    attributes = dict(evaluation_context.attributes)
    anonymous_id = attributes.pop("anonymous_id", None)
    environment = attributes.pop("environment", None)
    return Context(
        user_id=evaluation_context.targeting_key or attributes.pop("user_id", None),
        attributes=attributes,
        anonymous_id=anonymous_id,
        environment=None if environment is None else str(environment),
    )


class FeatureFlagsProvider(AbstractProvider):
    """Resolves flags from this process's snapshot: no I/O per evaluation."""

    def get_metadata(self) -> Metadata:
        return Metadata(name="featureflags")

    def _decide(self, flag_key: str, evaluation_context: EvaluationContext | None) -> tuple[Decision, str]:
        """The decision and the flag's value type (``boolean`` for an unknown flag)."""
        snapshot = runtime.current()
        flag = snapshot.flags.get(flag_key)
        decision = snapshot.evaluate(flag_key, to_context(evaluation_context))
        return decision, "boolean" if flag is None else flag.value_type

    def resolve_boolean_details(
        self, flag_key: str, default_value: bool, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[bool]:
        decision, value_type = self._decide(flag_key, evaluation_context)
        if decision.reason is Reason.UNKNOWN_FLAG:
            return _not_found(flag_key, default_value)
        if value_type != "boolean":
            return _mismatch(default_value, "boolean", value_type)
        # Off is false (the flag's answer, not the caller's default); on, the variant's value if it has one.
        value = decision.value if decision.enabled and isinstance(decision.value, bool) else decision.enabled
        return _details(value, decision, decision.variant or ("on" if decision.enabled else "off"))

    def resolve_string_details(
        self, flag_key: str, default_value: str, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[str]:
        decision, value_type = self._decide(flag_key, evaluation_context)
        if decision.reason is Reason.UNKNOWN_FLAG:
            return _not_found(flag_key, default_value)
        if value_type == "boolean" and decision.variant is not None:
            return _details(decision.variant, decision, decision.variant)  # version 1: a boolean flag's variant
        if value_type == "boolean" and not _has_variants(flag_key):
            return _mismatch(default_value, "string", value_type)
        if value_type not in ("string", "boolean"):
            return _mismatch(default_value, "string", value_type)
        return _typed(decision, default_value)

    def resolve_integer_details(
        self, flag_key: str, default_value: int, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[int]:
        decision, value_type = self._decide(flag_key, evaluation_context)
        if decision.reason is Reason.UNKNOWN_FLAG:
            return _not_found(flag_key, default_value)
        if value_type != "number":
            return _mismatch(default_value, "integer", value_type)
        if decision.enabled and isinstance(decision.value, float):
            if not decision.value.is_integer():
                return _mismatch(default_value, "integer", f"number {decision.value!r}")
            return _typed(decision, default_value, int(decision.value))
        return _typed(decision, default_value)

    def resolve_float_details(
        self, flag_key: str, default_value: float, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[float]:
        decision, value_type = self._decide(flag_key, evaluation_context)
        if decision.reason is Reason.UNKNOWN_FLAG:
            return _not_found(flag_key, default_value)
        if value_type != "number":
            return _mismatch(default_value, "float", value_type)
        served = float(decision.value) if decision.enabled and decision.value is not None else None
        return _typed(decision, default_value, served)

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: Sequence[FlagValueType] | Mapping[str, FlagValueType],
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[Sequence[FlagValueType] | Mapping[str, FlagValueType]]:
        decision, value_type = self._decide(flag_key, evaluation_context)
        if decision.reason is Reason.UNKNOWN_FLAG:
            return _not_found(flag_key, default_value)
        if value_type != "json":
            return _mismatch(default_value, "object", value_type)
        if decision.enabled and not isinstance(decision.value, (Mapping, list)):
            return _mismatch(default_value, "object", f"JSON {type(decision.value).__name__}")
        return _typed(decision, default_value)


def _has_variants(flag_key: str) -> bool:
    flag = runtime.current().flags.get(flag_key)
    return flag is not None and bool(flag.variant_names)


def _typed(decision: Decision, default_value: Any, served: Any = None) -> FlagResolutionDetails:
    """The variant's value when on (``served`` if given), else the caller's default."""
    value = decision.value if served is None else served
    if not decision.enabled or value is None:
        details = _details(default_value, decision, decision.variant)
        details.reason = OFReason.DISABLED if decision.reason is Reason.OFF else OFReason.DEFAULT
        return details
    return _details(value, decision, decision.variant)


def _details(value: Any, decision: Decision, variant: str | None) -> FlagResolutionDetails:
    metadata: dict[str, Any] = {"featureflags_reason": decision.reason.value, "enabled": decision.enabled}
    if decision.rule is not None:
        metadata["rule"] = decision.rule  # the id of the rule that decided
    return FlagResolutionDetails(value=value, reason=REASONS[decision.reason], variant=variant, flag_metadata=metadata)


def _not_found(flag_key: str, default_value: Any) -> FlagResolutionDetails:
    return FlagResolutionDetails(
        value=default_value,
        reason=OFReason.ERROR,
        error_code=ErrorCode.FLAG_NOT_FOUND,
        error_message=f"No flag is called {flag_key!r}.",
    )


def _mismatch(default_value: Any, requested: str, found: str) -> FlagResolutionDetails:
    return FlagResolutionDetails(
        value=default_value,
        reason=OFReason.ERROR,
        error_code=ErrorCode.TYPE_MISMATCH,
        error_message=f"A {requested} was asked for; the flag serves {found} values.",
    )
