"""Schedules that act: audit entries when a start or end passes, and planned ramps.

``start_at``/``end_at`` already decide evaluation; :func:`tick` (run by
``manage.py flags tick`` from cron, e.g. every minute) records in the audit log
when a boundary passed, and applies the ramp steps that are due.

    from featureflags import schedules
    when = schedules.parse_when
    schedules.plan_ramp("new_ui", [(when("now"), 10), (when("tomorrow 09:00"), 50), (when("monday 09:00"), 100)],
                        actor="alice")
    schedules.tick()

A ramp only changes the percentage. If the flag is off when a step is due (an
operator or a guardrail switched it off), the rest of the plan is cancelled:
a ramp never switches a flag back on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import services
from .models import AuditEntry, Flag, RampStatus, RampStep, Source

ACTOR = "schedule"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RELATIVE = re.compile(r"^\+(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_BOUNDARY_ACTIONS = {"start_at": "schedule_start", "end_at": "schedule_end"}


@dataclass
class TickReport:
    """What one tick did, one line per event."""

    boundaries: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return self.boundaries + self.steps


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """A moment from what an operator types: ``now``, ``+30m``/``+2h``/``+1d``, ``tomorrow [HH:MM]``,
    a weekday (``monday [HH:MM]``: the next one, 09:00 by default) or ISO 8601 (current time zone if naive).

    >>> parse_when("tomorrow 09:00", now=datetime(2026, 11, 21, 16, 0, tzinfo=UTC))
    datetime.datetime(2026, 11, 22, 9, 0, tzinfo=datetime.timezone.utc)
    """
    now = timezone.localtime(now or timezone.now())
    raw = text.strip().lower()
    if raw == "now":
        return now
    relative = _RELATIVE.match(raw)
    if relative:
        return now + timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    day, _, clock = raw.partition(" ")
    if day == "tomorrow" or day in WEEKDAYS or day == "today":
        hour, minute = _clock(clock or "09:00", text)
        if day == "today":
            ahead = 0
        elif day == "tomorrow":
            ahead = 1
        else:
            ahead = (WEEKDAYS.index(day) - now.weekday()) % 7 or 7
        return (now + timedelta(days=ahead)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    parsed = parse_datetime(text.strip())
    if parsed is None:
        raise ValidationError({"at": [f"{text!r} is not a time: use now, +2h, tomorrow 09:00, monday, or ISO 8601."]})
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _clock(clock: str, text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", clock.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValidationError({"at": [f"{text!r}: the time of day must be HH:MM."]})
    return int(match.group(1)), int(match.group(2))


# -- ramps ----------------------------------------------------------------------


def plan_ramp(
    key: str,
    steps: Iterable[tuple[datetime, int]],
    *,
    actor: str | None = None,
    source: str = Source.CODE,
    enable: bool = False,
    now: datetime | None = None,
) -> list[RampStep]:
    """Replace the flag's pending ramp with ``steps`` ((when, percentage), any order); audited.

    Steps already due are applied at once. ``enable`` switches the flag on with the plan
    (else a flag that is off cancels the plan when its first step is due).
    """
    now = now or timezone.now()
    given = list(steps)
    errors = []
    if not given:
        errors.append("A ramp needs at least one step.")
    for number, (at, percentage) in enumerate(given, start=1):
        if not isinstance(percentage, int) or isinstance(percentage, bool) or not 0 <= percentage <= 100:
            errors.append(f"Step {number}: the percentage must be a whole number from 0 to 100, not {percentage!r}.")
        if not isinstance(at, datetime) or timezone.is_naive(at):
            errors.append(f"Step {number}: the time must be a datetime with a time zone.")
    if errors:
        raise ValidationError({"steps": errors})
    ordered = sorted(given, key=lambda step: step[0])
    with transaction.atomic():
        flag = _flag(key)
        cancelled = RampStep.objects.filter(flag=flag, status=RampStatus.PENDING).update(
            status=RampStatus.CANCELLED, done_at=now
        )
        created = RampStep.objects.bulk_create(
            [RampStep(flag=flag, at=at, percentage=p, planned_by=actor or "") for at, p in ordered]
        )
        services.record_event(
            key,
            "plan_ramp",
            actor=actor,
            source=source,
            after={"steps": [{"at": at.isoformat(), "percentage": p} for at, p in ordered]},
            note=f"Ramp planned: {describe(ordered)}" + (f" (replaces {cancelled} pending steps)" if cancelled else ""),
        )
        if enable and not flag.enabled:
            services.set_enabled(key, True, actor=actor, source=source, note="Switched on with its ramp plan.")
    _apply_due(key, now, ACTOR)
    return list(RampStep.objects.filter(pk__in=[s.pk for s in created]))


def cancel_ramp(key: str, *, actor: str | None = None, source: str = Source.CODE, note: str = "") -> int:
    """Cancel the pending steps of ``key``'s ramp; returns how many (audited when any)."""
    with transaction.atomic():
        flag = _flag(key)
        count = RampStep.objects.filter(flag=flag, status=RampStatus.PENDING).update(
            status=RampStatus.CANCELLED, done_at=timezone.now()
        )
        if count:
            services.record_event(
                key, "ramp_cancelled", actor=actor, source=source, note=note or f"{count} pending steps cancelled."
            )
    return count


def describe(steps: Iterable[tuple[datetime, int]]) -> str:
    return ", ".join(f"{p} % at {timezone.localtime(at):%Y-%m-%d %H:%M %Z}" for at, p in steps)


def pending_steps(key: str | None = None):
    steps = RampStep.objects.filter(status=RampStatus.PENDING).select_related("flag")
    return steps.filter(flag__key=key) if key else steps


# -- the tick -------------------------------------------------------------------


def tick(now: datetime | None = None, actor: str = ACTOR) -> TickReport:
    """Record schedule boundaries that passed and apply due ramp steps; safe to run from several hosts."""
    now = now or timezone.now()
    report = TickReport()
    report.boundaries = record_boundaries(now, actor)
    due_keys = (
        RampStep.objects.filter(status=RampStatus.PENDING, at__lte=now)
        .values_list("flag__key", flat=True)
        .distinct()
        .order_by("flag__key")
    )
    for key in list(due_keys):
        line = _apply_due(key, now, actor)
        if line:
            report.steps.append(line)
    return report


def record_boundaries(now: datetime, actor: str = ACTOR) -> list[str]:
    """An audit entry (``schedule_start``/``schedule_end``) for each boundary that passed, once each."""
    passed = [
        (key, name, at)
        for name in ("start_at", "end_at")
        for key, at in Flag.objects.filter(**{f"{name}__lte": now}).values_list("key", name)
    ]
    if not passed:
        return []
    recorded = {
        (key, next(iter(after or {}), None), next(iter((after or {}).values()), None))
        for key, after in AuditEntry.objects.filter(
            flag_key__in={key for key, _name, _at in passed}, action__in=_BOUNDARY_ACTIONS.values()
        ).values_list("flag_key", "after")
    }
    lines = []
    for key, name, at in passed:
        stamp = at.isoformat()
        if (key, name, stamp) in recorded:
            continue
        action = _BOUNDARY_ACTIONS[name]
        with transaction.atomic():
            Flag.objects.select_for_update().filter(key=key).first()  # one ticker at a time per flag
            if AuditEntry.objects.filter(flag_key=key, action=action, **{f"after__{name}": stamp}).exists():
                continue
            what = "started" if name == "start_at" else "ended"
            services.record_event(
                key,
                action,
                actor=actor,
                source=Source.SCHEDULE,
                after={name: stamp},
                note=f"The flag's schedule {what} at {timezone.localtime(at):%Y-%m-%d %H:%M %Z}.",
            )
        lines.append(f"{key}: schedule {what} at {stamp}")
    return lines


def _apply_due(key: str, now: datetime, actor: str) -> str | None:
    """Apply the latest due step of ``key`` (earlier due ones are superseded); None when nothing was due."""
    with transaction.atomic():
        flag = Flag.objects.select_for_update().filter(key=key).first()
        if flag is None:
            return None
        due = list(RampStep.objects.filter(flag=flag, status=RampStatus.PENDING, at__lte=now).order_by("at", "id"))
        if not due:
            return None
        if not flag.enabled:
            count = RampStep.objects.filter(flag=flag, status=RampStatus.PENDING).update(
                status=RampStatus.CANCELLED, done_at=now
            )
            services.record_event(
                key,
                "ramp_cancelled",
                actor=actor,
                source=Source.SCHEDULE,
                note=f"The flag is off, so its ramp stopped: {count} pending steps cancelled.",
            )
            return f"{key}: off, ramp cancelled ({count} steps)"
        step = due[-1]
        # Claim the steps: a concurrent tick that loses the race changes nothing.
        if (
            RampStep.objects.filter(pk=step.pk, status=RampStatus.PENDING).update(
                status=RampStatus.APPLIED, done_at=now
            )
            != 1
        ):
            return None
        RampStep.objects.filter(pk__in=[s.pk for s in due[:-1]], status=RampStatus.PENDING).update(
            status=RampStatus.SUPERSEDED, done_at=now
        )
        plan = list(
            RampStep.objects.filter(flag=flag)
            .exclude(status=RampStatus.CANCELLED)
            .order_by("at", "id")
            .values_list("pk", flat=True)
        )
        number = plan.index(step.pk) + 1
        note = (
            f"Ramp step {number} of {len(plan)}: {step.percentage} % planned for "
            f"{timezone.localtime(step.at):%Y-%m-%d %H:%M %Z}" + (f" by {step.planned_by}" if step.planned_by else "")
        )
        before = flag.percentage
        if before == step.percentage:
            services.record_event(key, "ramp_step", actor=actor, source=Source.SCHEDULE, note=note + " (no change).")
        else:
            services.set_percentage(
                key, step.percentage, actor=actor, source=Source.SCHEDULE, action="ramp_step", note=note
            )
    return f"{key}: {before} % -> {step.percentage} % (step {number} of {len(plan)})"


def _flag(key: str) -> Flag:
    flag = Flag.objects.select_for_update().filter(key=key).first()
    if flag is None:
        raise services.FlagNotFound(key)
    return flag
