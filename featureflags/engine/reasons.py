"""Why a decision came out the way it did."""

from enum import Enum


class Reason(str, Enum):
    """The step of the evaluation contract that decided (``spec/evaluation.md``)."""

    UNKNOWN_FLAG = "UNKNOWN_FLAG"
    OFF = "OFF"
    ENVIRONMENT = "ENVIRONMENT"
    SCHEDULE = "SCHEDULE"
    PREREQUISITE = "PREREQUISITE"
    GLOBAL = "GLOBAL"
    EXCLUDED = "EXCLUDED"
    TARGETED = "TARGETED"
    RULE = "RULE"
    CONSTRAINT = "CONSTRAINT"
    ROLLOUT = "ROLLOUT"
    OVERRIDE = "OVERRIDE"  # forced by featureflags.testing.override_flag

    def __str__(self) -> str:
        return self.value
