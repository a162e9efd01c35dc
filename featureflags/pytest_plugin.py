"""pytest plugin of the test kit, registered through the ``pytest11`` entry point
(or ``pytest_plugins = ["featureflags.pytest_plugin"]`` in a conftest.py).

    def test_new_ui(client, override_flags):
        override_flags("new_ui")                      # on
        override_flags("checkout", variant="blue")    # on, variant blue
        override_flags("old_ui", active=False)        # off
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture
def override_flags() -> Iterator[Callable[..., None]]:
    """A function forcing flags for the rest of the test; undone at teardown."""
    from .testing import override_flag

    entered: list[override_flag] = []

    def force(key: str, active: bool = True, variant: str | None = None, value: Any = None) -> None:
        manager = override_flag(key, active=active, variant=variant, value=value)
        manager.__enter__()
        entered.append(manager)

    yield force
    for manager in reversed(entered):
        manager.__exit__(None, None, None)
