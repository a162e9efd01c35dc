"""``flags restore KEY``: bring back an archived (deleted) flag with its user lists, switched off."""

from __future__ import annotations

from ._common import actor, write_call

help = "Restore an archived (deleted) flag with its user lists, switched off."


def add_arguments(parser) -> None:
    parser.add_argument("key")


def handle(command, options) -> None:
    from featureflags import services

    flag = write_call(services.restore_flag, options["key"], actor=actor(options))
    command.stdout.write(command.style.SUCCESS(f"{flag.key} restored, switched off (version {flag.version})."))
