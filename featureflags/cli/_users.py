"""The shared body of ``add-users`` and ``remove-users``: ids as arguments, or a file of one id per line."""

from __future__ import annotations

import sys
from collections.abc import Iterator

from django.core.management.base import CommandError

from ._common import actor, write_call
from ._progress import progress


def add_arguments(parser) -> None:
    parser.add_argument("key")
    parser.add_argument("ids", nargs="*", help="User ids (or use --file).")
    parser.add_argument("--file", help="One id per line; '-' reads standard input.")
    parser.add_argument("--excluded", action="store_true", help="The excluded list instead of the users list.")
    parser.add_argument("--no-progress", action="store_true")


def run(command, options, function, verb: str) -> None:
    if bool(options["ids"]) == bool(options["file"]):
        raise CommandError("Give ids as arguments or --file, not both nor neither.")
    ids = options["ids"] or _lines(options["file"])
    if options["file"] and not options["no_progress"]:
        ids = progress(ids, verb)
    changed = write_call(function, options["key"], ids, excluded=options["excluded"], actor=actor(options))
    command.stdout.write(command.style.SUCCESS(f"{verb} {changed} id(s) of {options['key']}."))


def _lines(path: str) -> Iterator[str]:
    stream = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115  closed below
    try:
        for line in stream:
            if line.strip():
                yield line.strip()
    finally:
        if stream is not sys.stdin:
            stream.close()
