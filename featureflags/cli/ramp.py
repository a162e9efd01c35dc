"""``manage.py flags ramp KEY 10@now 50@"tomorrow 09:00" 100@monday``: plan a ramp (``flags tick`` applies it)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

help = "Plan a percentage ramp (PCT@WHEN ...), show it (--show) or cancel it (--cancel)."


def add_arguments(parser) -> None:
    parser.add_argument("key")
    parser.add_argument(
        "steps", nargs="*", help='PERCENT@WHEN, WHEN being now, +2h, +1d, "tomorrow 09:00", monday, or ISO 8601.'
    )
    parser.add_argument("--enable", action="store_true", help="Switch the flag on with the plan.")
    parser.add_argument("--show", action="store_true", help="Show the pending steps.")
    parser.add_argument("--cancel", action="store_true", help="Cancel the pending steps.")


def parse_step(text: str) -> tuple[Any, int]:
    from django.core.exceptions import ValidationError

    from featureflags import schedules

    percentage, at, when = text.partition("@")
    if not at or not percentage.strip().rstrip("%").strip().isdigit():
        raise ValidationError({"steps": [f"{text!r}: write a step as PERCENT@WHEN, e.g. 50@tomorrow 09:00."]})
    return schedules.parse_when(when), int(percentage.strip().rstrip("%"))


def handle(command, options: dict[str, Any]) -> None:
    from featureflags import schedules
    from featureflags.models import Source

    from ._common import actor, fail

    key = options["key"]
    try:
        if options["cancel"]:
            count = schedules.cancel_ramp(key, actor=actor(options), source=Source.CLI)
            command.stdout.write(f"{count} pending steps of {key} cancelled.")
            return
        if not options["show"]:
            if not options["steps"]:
                raise CommandError("Give at least one step (PERCENT@WHEN), or --show / --cancel.")
            steps = [parse_step(text) for text in options["steps"]]
            schedules.plan_ramp(key, steps, actor=actor(options), source=Source.CLI, enable=options["enable"])
            command.stdout.write(f"Ramp of {key} planned: {schedules.describe(steps)}.")
    except CommandError:
        raise
    except Exception as exc:
        raise fail(exc) from exc
    for step in schedules.pending_steps(key):
        command.stdout.write(f"  pending: {step.percentage} % at {step.at.isoformat()}")
