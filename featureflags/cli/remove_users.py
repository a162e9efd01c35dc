"""``flags remove-users KEY ID... | --file ids.txt``."""

from __future__ import annotations

from featureflags import services

from . import _users

help = "Remove user ids from a flag's list (or --excluded list)."
add_arguments = _users.add_arguments


def handle(command, options) -> None:
    _users.run(command, options, services.remove_users, "Removed")
