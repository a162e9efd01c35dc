"""The shared body of ``enable``, ``disable`` and ``kill``."""

from __future__ import annotations

from ._common import actor, write_call


def add_arguments(parser) -> None:
    parser.add_argument("key")
    parser.add_argument("--expect-version", type=int, help="Refuse unless the flag is still at this version.")
    parser.add_argument("--note", default="", help="Why, for the audit log.")


def run(command, options, function, done: str) -> None:
    flag = write_call(
        function, options["key"], actor=actor(options), expected_version=options["expect_version"], note=options["note"]
    )
    command.stdout.write(command.style.SUCCESS(f"{options['key']} {done} (version {flag.version})."))
