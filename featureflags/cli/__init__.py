"""Subcommands of ``manage.py flags``: one module each, found by name.

A module here defines ``help`` (one line), ``add_arguments(parser)`` and
``handle(command, options)``; ``command`` is the Django command (use its
``stdout``/``stderr`` and ``style``). Raise ``CommandError`` for bad input.
"""

from __future__ import annotations

import pkgutil
from importlib import import_module
from types import ModuleType


def subcommands() -> dict[str, ModuleType]:
    """Subcommand name (``set-percentage``) -> module (``set_percentage``)."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = import_module(f"{__name__}.{info.name}")
        if hasattr(module, "handle"):
            found[info.name.replace("_", "-")] = module
    return dict(sorted(found.items()))
