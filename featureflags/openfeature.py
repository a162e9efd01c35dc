"""An OpenFeature provider (``openfeature-sdk``) over this product's evaluator.

    from openfeature import api
    from featureflags.openfeature import FeatureFlagsProvider

    api.set_provider(FeatureFlagsProvider())
    client = api.get_client()
    client.get_boolean_value("new_ui", False, EvaluationContext("42", {"region": "US"}))
    client.get_string_value("checkout", "control", EvaluationContext("42"))  # the variant

The targeting key is the user id; the attributes ``anonymous_id`` and
``environment`` fill those fields and the rest become attributes. Booleans and
strings (the variant) resolve; integer, float and object flags do not exist
here and answer the default with ``TYPE_MISMATCH``.
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

    def _decide(self, flag_key: str, evaluation_context: EvaluationContext | None) -> Decision:
        return runtime.current().evaluate(flag_key, to_context(evaluation_context))

    def resolve_boolean_details(
        self, flag_key: str, default_value: bool, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[bool]:
        decision = self._decide(flag_key, evaluation_context)
        if decision.reason is Reason.UNKNOWN_FLAG:
            return _not_found(flag_key, default_value)
        variant = decision.variant or ("on" if decision.enabled else "off")
        return _details(decision.enabled, decision, variant)

    def resolve_string_details(
        self, flag_key: str, default_value: str, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[str]:
        decision = self._decide(flag_key, evaluation_context)
        if decision.reason is Reason.UNKNOWN_FLAG:
            return _not_found(flag_key, default_value)
        if decision.variant is None:  # off, or a flag without variants: the caller's default
            details = _details(default_value, decision, None)
            details.reason = OFReason.DISABLED if not decision.enabled else OFReason.DEFAULT
            return details
        return _details(decision.variant, decision, decision.variant)

    def resolve_integer_details(
        self, flag_key: str, default_value: int, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[int]:
        return _mismatch(default_value, "integer")

    def resolve_float_details(
        self, flag_key: str, default_value: float, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[float]:
        return _mismatch(default_value, "float")

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: Sequence[FlagValueType] | Mapping[str, FlagValueType],
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[Sequence[FlagValueType] | Mapping[str, FlagValueType]]:
        return _mismatch(default_value, "object")


def _details(value: Any, decision: Decision, variant: str | None) -> FlagResolutionDetails:
    return FlagResolutionDetails(
        value=value,
        reason=REASONS[decision.reason],
        variant=variant,
        flag_metadata={"featureflags_reason": decision.reason.value, "enabled": decision.enabled},
    )


def _not_found(flag_key: str, default_value: Any) -> FlagResolutionDetails:
    return FlagResolutionDetails(
        value=default_value,
        reason=OFReason.ERROR,
        error_code=ErrorCode.FLAG_NOT_FOUND,
        error_message=f"No flag is called {flag_key!r}.",
    )


def _mismatch(default_value: Any, kind: str) -> FlagResolutionDetails:
    return FlagResolutionDetails(
        value=default_value,
        reason=OFReason.ERROR,
        error_code=ErrorCode.TYPE_MISMATCH,
        error_message=f"Flags are booleans with string variants; there are no {kind} flags.",
    )
