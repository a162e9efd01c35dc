"""``flags enable KEY``: Switch a flag on."""

from __future__ import annotations

from featureflags import services

from . import _switch

help = "Switch a flag on."
add_arguments = _switch.add_arguments


def handle(command, options) -> None:
    _switch.run(command, options, lambda key, **kwargs: services.set_enabled(key, True, **kwargs), "switched on")
