from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from featureflags import schedules, services
from featureflags.models import AuditEntry, Flag, RampStatus, RampStep, Source

SATURDAY = datetime(2026, 11, 21, 16, 0, tzinfo=UTC)


def flags(*args: str) -> str:
    out = StringIO()
    call_command("flags", *args, stdout=out)
    return out.getvalue()


def test_parse_when():
    assert schedules.parse_when("now", SATURDAY) == SATURDAY
    assert schedules.parse_when("+2h", SATURDAY) == SATURDAY + timedelta(hours=2)
    assert schedules.parse_when("tomorrow 09:00", SATURDAY) == datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    assert schedules.parse_when("monday", SATURDAY) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert schedules.parse_when("saturday 10:30", SATURDAY) == datetime(2026, 11, 28, 10, 30, tzinfo=UTC)
    assert schedules.parse_when("2026-12-01T08:00:00+01:00", SATURDAY).hour == 8
    for bad in ("soon", "tomorrow 25:00", "monday 9"):
        with pytest.raises(ValidationError) as error:
            schedules.parse_when(bad, SATURDAY)
        assert "at" in error.value.message_dict


@pytest.mark.django_db
def test_a_ramp_plan_is_applied_step_by_step_by_the_tick_command():
    services.create_flag("new_ui", enabled=True, percentage=0)
    when = schedules.parse_when
    plan = [(when("now", SATURDAY), 10), (when("tomorrow 09:00", SATURDAY), 50), (when("monday", SATURDAY), 100)]
    schedules.plan_ramp("new_ui", plan, actor="alice", now=SATURDAY)
    # The first step was due: applied at once.
    assert Flag.objects.get(key="new_ui").percentage == 10

    assert "Nothing to do." in flags("tick", "--now", "2026-11-22T08:59:00+00:00")
    assert Flag.objects.get(key="new_ui").percentage == 10

    out = flags("tick", "--now", "2026-11-22T09:00:30+00:00")
    assert "new_ui: 10 % -> 50 % (step 2 of 3)" in out
    assert Flag.objects.get(key="new_ui").percentage == 50

    flags("tick", "--now", "2026-11-23T09:01:00+00:00")
    assert Flag.objects.get(key="new_ui").percentage == 100
    assert "Nothing to do." in flags("tick", "--now", "2026-11-24T00:00:00+00:00")

    steps = AuditEntry.objects.filter(flag_key="new_ui", action="ramp_step").order_by("id")
    assert [(e.before["percentage"], e.after["percentage"], e.source, e.actor) for e in steps] == [
        (0, 10, Source.SCHEDULE, "schedule"),
        (10, 50, Source.SCHEDULE, "schedule"),
        (50, 100, Source.SCHEDULE, "schedule"),
    ]
    assert "step 3 of 3" in steps.last().note and "by alice" in steps.last().note
    assert AuditEntry.objects.filter(flag_key="new_ui", action="plan_ramp", actor="alice").count() == 1
    assert set(RampStep.objects.values_list("status", flat=True)) == {RampStatus.APPLIED}


@pytest.mark.django_db
def test_overdue_steps_jump_to_the_latest_and_a_switched_off_flag_cancels_the_ramp():
    services.create_flag("f", enabled=True, percentage=5)
    plan = [(SATURDAY + timedelta(hours=h), p) for h, p in ((1, 20), (2, 40), (30, 80))]
    schedules.plan_ramp("f", plan, now=SATURDAY)
    schedules.tick(now=SATURDAY + timedelta(hours=3))
    assert Flag.objects.get(key="f").percentage == 40
    assert list(RampStep.objects.order_by("at").values_list("status", flat=True)) == [
        RampStatus.SUPERSEDED,
        RampStatus.APPLIED,
        RampStatus.PENDING,
    ]
    services.kill("f", source=Source.GUARDRAIL, actor="guardrail")
    report = schedules.tick(now=SATURDAY + timedelta(days=2))
    assert report.steps == ["f: off, ramp cancelled (1 steps)"]
    flag = Flag.objects.get(key="f")
    assert (flag.enabled, flag.percentage) == (False, 40)
    assert AuditEntry.objects.filter(flag_key="f", action="ramp_cancelled").count() == 1


@pytest.mark.django_db
def test_bad_plans_are_refused_whole():
    services.create_flag("f", enabled=True)
    with pytest.raises(ValidationError) as error:
        schedules.plan_ramp("f", [(SATURDAY, 10), (SATURDAY, 101), (datetime(2026, 1, 1), 5)])
    messages = error.value.message_dict["steps"]
    assert len(messages) == 2 and "101" in messages[0] and "Step 3" in messages[1]
    with pytest.raises(services.FlagNotFound):
        schedules.plan_ramp("missing", [(SATURDAY, 10)])
    assert not RampStep.objects.exists()


@pytest.mark.django_db
def test_ramp_command_plans_shows_and_cancels():
    services.create_flag("f", percentage=0)
    out = flags("ramp", "f", "10@now", "50@+1d", "--enable")
    assert "Ramp of f planned" in out and "pending: 50 %" in out
    flag = Flag.objects.get(key="f")
    assert (flag.enabled, flag.percentage) == (True, 10)
    assert "1 pending steps of f cancelled." in flags("ramp", "f", "--cancel")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="PERCENT@WHEN"):
        flags("ramp", "f", "fifty@now")


@pytest.mark.django_db
def test_schedule_boundaries_are_audited_once():
    services.create_flag("sale", enabled=True, start_at=SATURDAY, end_at=SATURDAY + timedelta(days=1))
    assert schedules.tick(now=SATURDAY - timedelta(minutes=1)).boundaries == []
    first = schedules.tick(now=SATURDAY + timedelta(minutes=1)).boundaries
    assert first == [f"sale: schedule started at {SATURDAY.isoformat()}"]
    assert schedules.tick(now=SATURDAY + timedelta(minutes=2)).boundaries == []
    schedules.tick(now=SATURDAY + timedelta(days=2))
    entries = AuditEntry.objects.filter(flag_key="sale", source=Source.SCHEDULE).order_by("id")
    assert [e.action for e in entries] == ["schedule_start", "schedule_end"]
