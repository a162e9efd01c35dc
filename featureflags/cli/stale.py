"""``manage.py flags stale --days 30``: flags that look done (see featureflags.hygiene)."""

from __future__ import annotations

from typing import Any

help = "List stale flags: not evaluated, fully on/off and unchanged, or past their expected lifetime."


def add_arguments(parser) -> None:
    parser.add_argument("--days", type=int, default=30, help="How long counts as stale (default 30).")
    parser.add_argument("--json", action="store_true", help="Print JSON.")
    parser.add_argument("--fail-if-any", action="store_true", help="Exit 1 when a flag is stale (for CI).")


def handle(command, options: dict[str, Any]) -> None:
    from django.core.management.base import CommandError

    from featureflags.hygiene import stale_flags

    from ._common import print_json

    if options["days"] < 0:
        raise CommandError("--days must be 0 or more.")
    found = stale_flags(options["days"])
    if options["json"]:
        print_json(command, [{"key": s.flag.key, "owner": s.flag.owner, "reasons": s.reasons} for s in found])
    elif not found:
        command.stdout.write(f"No stale flags ({options['days']} days).")
    for stale in [] if options["json"] else found:
        owner = f" (owner: {stale.flag.owner})" if stale.flag.owner else ""
        command.stdout.write(f"{stale.flag.key}{owner}: {'; '.join(stale.reasons)}")
    if found and options["fail_if_any"]:
        raise CommandError(f"{len(found)} stale flags.")
