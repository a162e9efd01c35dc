"""``flags add-users KEY ID... | --file ids.txt``."""

from __future__ import annotations

from featureflags import services

from . import _users

help = "Add user ids to a flag's list (or --excluded list); --file streams a million ids."
add_arguments = _users.add_arguments


def handle(command, options) -> None:
    _users.run(command, options, services.add_users, "Added")
