"""Why a decision came out the way it did."""

from enum import Enum


class Reason(str, Enum):
    """The step of the evaluation contract (version 2) that decided (``spec/evaluation.md``)."""

    UNKNOWN_FLAG = "UNKNOWN_FLAG"
    ENVIRONMENT = "ENVIRONMENT"
    OFF = "OFF"
    SCHEDULE = "SCHEDULE"
    PREREQUISITE = "PREREQUISITE"
    GLOBAL = "GLOBAL"
    EXCLUDED = "EXCLUDED"
    TARGETED = "TARGETED"
    DEFAULT = "DEFAULT"
    RULE = "RULE"
    NO_MATCH = "NO_MATCH"
    OVERRIDE = "OVERRIDE"  # forced by featureflags.testing.override_flag
    # Version 1 only: the engine never gives these; engine/v1.py maps them (V1_REASONS).
    CONSTRAINT = "CONSTRAINT"
    ROLLOUT = "ROLLOUT"

    def __str__(self) -> str:
        return self.value
