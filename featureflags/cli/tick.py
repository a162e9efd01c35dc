"""``manage.py flags tick``: act on schedules (run it from cron, e.g. every minute).

* * * * *  cd /srv/site && python manage.py flags tick --quiet
"""

from __future__ import annotations

from typing import Any

help = "Apply due ramp steps and audit schedule boundaries that passed (run every minute from cron)."


def add_arguments(parser) -> None:
    parser.add_argument("--now", help="Pretend it is this moment (ISO 8601, or now/+2h/tomorrow 09:00).")
    parser.add_argument("--quiet", action="store_true", help="Print nothing when nothing happened.")


def handle(command, options: dict[str, Any]) -> None:
    from featureflags import schedules

    from ._common import fail

    try:
        now = schedules.parse_when(options["now"]) if options.get("now") else None
        report = schedules.tick(now=now)
    except Exception as exc:
        raise fail(exc) from exc
    for line in report.lines:
        command.stdout.write(line)
    if not report.lines and not options.get("quiet"):
        command.stdout.write("Nothing to do.")
