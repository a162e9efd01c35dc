"""The test kit: force a flag's decision without the database or Redis.

    from featureflags.testing import override_flag

    @override_flag("new_ui", active=True)
    def test_new_ui(client):
        ...

    def test_checkout(client):
        with override_flag("checkout", active=True, variant="blue"):
            ...

    @override_flag("checkout_layout", active=True, value="two_step")  # featureflags.value()

Every entry point (``is_enabled``, ``request.flags``, template tags, decorators,
the hanoi facade) sees the override, with ``Reason.OVERRIDE``; flags that do not
exist can be overridden too. Overrides belong to the thread or asyncio task that
set them, so parallel tests do not see each other's. The pytest fixture
``override_flags`` (from the plugin ``featureflags.pytest_plugin``) undoes its
overrides after the test.
"""

from __future__ import annotations

import functools
import inspect
from contextlib import ContextDecorator
from typing import Any

from . import overrides


class override_flag(ContextDecorator):  # lower case, like Django's override_settings
    """Force ``key`` on (``active=True``, optionally with ``variant``) or off, as decorator or context manager.

    >>> with override_flag("new_ui", active=True):
    ...     assert featureflags.is_enabled("new_ui", 42)
    """

    def __init__(self, key: str, active: bool = True, variant: str | None = None, value: Any = None) -> None:
        self.key = key
        self.active = active
        self.variant = variant
        self.value = value  # what featureflags.value() serves (else the variant's value in the real flag)
        self._tokens: list[Any] = []

    def __enter__(self) -> override_flag:
        self._tokens.append(overrides.push(self.key, self.active, self.variant, self.value))
        return self

    def __exit__(self, *exc: Any) -> None:
        overrides.pop(self._tokens.pop())

    def _recreate_cm(self) -> override_flag:
        # A fresh instance per decorated call: calls in parallel threads keep their own tokens.
        return type(self)(self.key, self.active, self.variant, self.value)

    def __call__(self, func: Any) -> Any:
        if inspect.isclass(func):
            return self._decorate_class(func)
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_inner(*args: Any, **kwargs: Any) -> Any:
                with self._recreate_cm():
                    return await func(*args, **kwargs)

            return async_inner
        return super().__call__(func)

    def _decorate_class(self, cls: type) -> type:
        """Every ``test*`` method (and setUp) of a test class runs under the override."""
        for name, attribute in list(vars(cls).items()):
            if callable(attribute) and (name.startswith("test") or name in ("setUp", "tearDown")):
                setattr(cls, name, self(attribute))
        return cls


def active_overrides() -> dict[str, Any]:
    """The overrides in force here, as ``{key: Decision}``."""
    return dict(overrides.current())
