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
