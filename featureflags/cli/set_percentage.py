"""``flags set-percentage KEY N``."""

from __future__ import annotations

from featureflags import services

from ._common import actor, write_call

help = "Set the share of users (0-100) a flag reaches."


def add_arguments(parser) -> None:
    parser.add_argument("key")
    parser.add_argument("percentage", type=int)
    parser.add_argument("--expect-version", type=int, help="Refuse unless the flag is still at this version.")


def handle(command, options) -> None:
    flag = write_call(
        services.set_percentage,
        options["key"],
        options["percentage"],
        actor=actor(options),
        expected_version=options["expect_version"],
    )
    command.stdout.write(
        command.style.SUCCESS(f"{options['key']} at {options['percentage']} % (version {flag.version}).")
    )
