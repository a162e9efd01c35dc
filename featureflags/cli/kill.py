"""``flags kill KEY``: The kill switch: off for everyone, audited as kill."""

from __future__ import annotations

from featureflags import services

from . import _switch

help = "The kill switch: off for everyone, audited as kill."
add_arguments = _switch.add_arguments


def handle(command, options) -> None:
    _switch.run(command, options, lambda key, **kwargs: services.kill(key, **kwargs), "killed")
