"""``flags show KEY``: every field of one flag and the sizes of its lists."""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from featureflags.models import Flag
from featureflags.serialization import flag_state, user_count, with_relations

from ._common import add_json, print_json

help = "Show one flag: every field, and how many users its lists hold."


def add_arguments(parser) -> None:
    parser.add_argument("key")
    add_json(parser)


def handle(command, options) -> None:
    flag = with_relations(Flag.objects).filter(key=options["key"]).first()
    if flag is None:
        raise CommandError(f"No flag is called {options['key']!r}.")
    state = flag_state(flag)
    state["user_count"] = user_count(flag)
    state["excluded_count"] = user_count(flag, excluded=True)
    if options["json"]:
        print_json(command, state)
        return
    for name, value in state.items():
        if name == "variants" and value:
            command.stdout.write(f"{name:<24} {len(value)}")
            for variant in value:  # each with its weight and typed value, as JSON
                shown = f" = {json.dumps(variant['value'])}" if "value" in variant else ""
                command.stdout.write(f"  {variant['name']} (weight {variant['weight']}){shown}")
            continue
        command.stdout.write(f"{name:<24} {value}")
