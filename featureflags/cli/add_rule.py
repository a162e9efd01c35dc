"""``flags add-rule KEY PATTERN``: append an RE2 rule (searched in the user id)."""

from __future__ import annotations

from django.core.management.base import CommandError

from featureflags import services
from featureflags.models import Flag

from ._common import actor, write_call

help = "Append a regex rule (RE2, searched in the user id) to a flag."


def add_arguments(parser) -> None:
    parser.add_argument("key")
    parser.add_argument("pattern")


def handle(command, options) -> None:
    flag = Flag.objects.filter(key=options["key"]).prefetch_related("rules").first()
    if flag is None:
        raise CommandError(f"No flag is called {options['key']!r}.")
    rules = [r.pattern for r in flag.rules.all()]
    if options["pattern"] in rules:
        command.stdout.write(f"{options['key']} already has the rule {options['pattern']!r}.")
        return
    write_call(
        services.update_flag,
        options["key"],
        {"rules": [*rules, options["pattern"]]},
        expected_version=flag.version,  # a rule added elsewhere meanwhile is not lost
        actor=actor(options),
        action="add_rule",
    )
    command.stdout.write(command.style.SUCCESS(f"Added the rule {options['pattern']!r} to {options['key']}."))
