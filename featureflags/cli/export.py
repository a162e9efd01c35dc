"""``flags export [KEY...] [-o FILE]``: the lossless native format."""

from __future__ import annotations

import sys

from featureflags.formats.native import write_export

from ._common import fail

help = "Export flags (all, or the keys given) with their user lists, in the lossless native JSON format."


def add_arguments(parser) -> None:
    parser.add_argument("keys", nargs="*")
    parser.add_argument("-o", "--output", help="A file to write (default: standard output).")


def handle(command, options) -> None:
    from django.core.exceptions import ValidationError

    out = open(options["output"], "w", encoding="utf-8") if options["output"] else command.stdout  # noqa: SIM115
    try:
        count = write_export(out, options["keys"] or None)
    except ValidationError as error:
        raise fail(error) from error
    finally:
        if options["output"]:
            out.close()
    if options["output"]:
        sys.stderr.write(f"Exported {count} flag(s) to {options['output']}.\n")
