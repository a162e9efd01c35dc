"""``flags disable KEY``: Switch a flag off."""

from __future__ import annotations

from featureflags import services

from . import _switch

help = "Switch a flag off."
add_arguments = _switch.add_arguments


def handle(command, options) -> None:
    _switch.run(command, options, lambda key, **kwargs: services.set_enabled(key, False, **kwargs), "switched off")
