"""``flags create KEY [--enabled] [--percentage N] [--set field=value ...]``."""

from __future__ import annotations

from django.core.management.base import CommandError

from featureflags import services

from ._common import actor, parse_value, write_call

help = "Create a flag (off unless --enabled)."


def add_arguments(parser) -> None:
    parser.add_argument("key")
    parser.add_argument("--enabled", action="store_true")
    parser.add_argument("--percentage", type=int)
    parser.add_argument("--description")
    parser.add_argument("--owner")
    parser.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE", help="Any field; VALUE is JSON or text."
    )


def handle(command, options) -> None:
    fields = fields_from(options["set"])
    if options["enabled"]:
        fields["enabled"] = True
    for name in ("percentage", "description", "owner"):
        if options[name] is not None:
            fields[name] = options[name]
    write_call(services.create_flag, options["key"], actor=actor(options), **fields)
    command.stdout.write(command.style.SUCCESS(f"Created {options['key']}."))


def fields_from(pairs: list[str]) -> dict:
    fields = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep:
            raise CommandError(f"--set {pair!r}: write FIELD=VALUE.")
        fields[name.strip()] = parse_value(raw)
    return fields
