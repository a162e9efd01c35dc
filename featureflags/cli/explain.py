"""``flags explain KEY [--user ID] [--attr name=value ...] [--environment E]``: why this decision."""

from __future__ import annotations

from django.core.management.base import CommandError

from featureflags.decisions import explain
from featureflags.engine import Context
from featureflags.store import runtime

from ._common import add_json, print_json

help = "Explain a decision step by step for a user and attributes."


def add_arguments(parser) -> None:
    parser.add_argument("key")
    parser.add_argument("--user", help="The user id.")
    parser.add_argument("--anonymous-id")
    parser.add_argument("--attr", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--environment")
    add_json(parser)


def handle(command, options) -> None:
    attributes = {}
    for pair in options["attr"]:
        name, sep, value = pair.partition("=")
        if not sep:
            raise CommandError(f"--attr {pair!r}: write NAME=VALUE.")
        attributes[name] = value
    runtime.refresh()  # a command runs once: read the flags as they are now
    has_context = options["user"] or options["anonymous_id"] or attributes or options["environment"]
    context = (
        Context(options["user"], attributes, options["anonymous_id"], options["environment"]) if has_context else None
    )
    explanation = explain(options["key"], context)
    if options["json"]:
        print_json(command, explanation.as_dict())
        return
    decision = explanation.decision
    command.stdout.write(
        f"{options['key']}: {'ON' if decision.enabled else 'OFF'} ({decision.reason.value})"
        + (f", variant {decision.variant}" if decision.variant else "")
    )
    for step in explanation.steps:
        command.stdout.write(f"  {step.outcome:<8} {step.name}: {step.detail}")
