"""``flags list``: every flag, one line each."""

from __future__ import annotations

from featureflags.models import Flag
from featureflags.serialization import flag_state, with_relations

from ._common import add_json, print_json

help = "List flags (key, on/off, percentage, description)."


def add_arguments(parser) -> None:
    add_json(parser)
    parser.add_argument("--enabled", action="store_true", help="Only flags that are switched on.")
    parser.add_argument("--tag", help="Only flags with this tag.")


def handle(command, options) -> None:
    flags = with_relations(Flag.objects.order_by("key"))
    if options["enabled"]:
        flags = flags.filter(enabled=True)
    states = [flag_state(f) for f in flags if not options["tag"] or options["tag"] in (f.tags or [])]
    if options["json"]:
        print_json(command, states)
        return
    for state in states:
        switch = "on " if state["enabled"] else "off"
        command.stdout.write(f"{state['key']:<40} {switch} {state['percentage']:>3}%  {state['description'][:60]}")
