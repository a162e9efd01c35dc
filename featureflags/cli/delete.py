"""``flags delete KEY``: archive a flag (restorable with ``flags restore`` until purged)."""

from __future__ import annotations

from ._common import actor, write_call

help = "Delete (archive) a flag: it leaves evaluation and every list; `flags restore` brings it back."


def add_arguments(parser) -> None:
    parser.add_argument("key")
    parser.add_argument("--expect-version", type=int, help="Refuse unless the flag is still at this version.")


def handle(command, options) -> None:
    from featureflags import services

    write_call(services.delete_flag, options["key"], actor=actor(options), expected_version=options["expect_version"])
    command.stdout.write(
        command.style.SUCCESS(f"{options['key']} archived: `flags restore {options['key']}` undoes it.")
    )
