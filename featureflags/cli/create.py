"""``flags create KEY [--enabled] [--percentage N] [--set field=value ...]``,
with typed values: ``[--value-type T] [--variant NAME=VALUE ...]``."""

from __future__ import annotations

from django.core.management.base import CommandError

from featureflags import services
from featureflags.models import ValueType

from ._common import actor, parse_value, write_call

help = "Create a flag (off unless --enabled)."


def add_arguments(parser) -> None:
    parser.add_argument("key")
    parser.add_argument("--enabled", action="store_true")
    parser.add_argument("--percentage", type=int)
    parser.add_argument("--description")
    parser.add_argument("--owner")
    parser.add_argument("--value-type", choices=ValueType.values, help="The type of the variants' values.")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="A variant (weight 1) and its value: text for a string flag, JSON otherwise. Repeat for each.",
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE", help="Any field; VALUE is JSON or text."
    )


def handle(command, options) -> None:
    fields = fields_from(options["set"])
    if options["enabled"]:
        fields["enabled"] = True
    for name in ("percentage", "description", "owner", "value_type"):
        if options[name] is not None:
            fields[name] = options[name]
    if options["variant"]:
        fields["variants"] = variants_from(options["variant"], fields.get("value_type", "boolean"))
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


def variants_from(pairs: list[str], value_type: str) -> list[dict]:
    """``NAME=VALUE`` pairs as variants; a string flag's value is the text as written (``3`` stays ``"3"``)."""
    variants = []
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep:
            raise CommandError(f"--variant {pair!r}: write NAME=VALUE.")
        value = raw if value_type == "string" else parse_value(raw)
        variants.append({"name": name.strip(), "weight": 1, "value": value})
    return variants
