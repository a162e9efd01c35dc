"""Helpers shared by the subcommands."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


def actor(options: dict[str, Any]) -> str:
    import getpass

    return options.get("actor") or f"cli:{getpass.getuser()}"


def validation_message(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
    return " ".join(error.messages)


def fail(error: Exception) -> CommandError:
    if isinstance(error, ValidationError):
        return CommandError(validation_message(error))
    return CommandError(str(error))


def print_json(command, data: Any) -> None:
    command.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str))


def add_json(parser) -> None:
    parser.add_argument("--json", action="store_true", help="Print JSON instead of text.")


def write_call(function, *args, **kwargs):
    """Run a services write from the command line: source cli, the actor, errors as CommandError."""
    from featureflags.models import Source
    from featureflags.services import FlagConflict, FlagNotFound

    try:
        return function(*args, source=Source.CLI, **kwargs)
    except (ValidationError, FlagConflict, FlagNotFound) as error:
        raise fail(error) from error


def parse_value(raw: str) -> Any:
    """A command-line value: JSON when it parses (numbers, lists, true), else the text itself."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw
