"""A daemon thread that does one thing every few seconds: what the flushers share.

Started lazily (cheap to ask for on every check), stopped when the settings
change and by tests, and started again in a child after ``fork`` when the parent
had one. Nothing starts with ``SYNC_THREAD`` off.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from .conf import flag_settings

logger = logging.getLogger("featureflags")


class Periodic:
    """Calls ``tick()`` every ``interval()`` seconds in a daemon thread called ``name``;
    ``after_fork()`` runs in a forked child, before the thread starts again there."""

    def __init__(
        self,
        name: str,
        interval: Callable[[], float],
        tick: Callable[[], None],
        after_fork: Callable[[], None] = lambda: None,
    ) -> None:
        self.name = name
        self._interval = interval
        self._tick = tick
        self._after_fork = after_fork
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._in_child)

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def ensure_started(self) -> None:
        if self.running() or not flag_settings.SYNC_THREAD:
            return
        with self._lock:
            if self.running():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(float(self._interval())):
            try:
                self._tick()
            except Exception:
                logger.exception("featureflags: the %s thread failed; trying again next time", self.name)

    def _in_child(self) -> None:
        had_thread = self._thread is not None
        self._thread = None
        self._lock = threading.Lock()  # another thread may have held it at fork
        self._after_fork()
        if had_thread:
            self.ensure_started()
