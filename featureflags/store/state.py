"""This process's flags in memory: the committed snapshot, and open transactions' own writes.

``served`` is what any thread may evaluate against without asking (a module
global: no lock, no I/O on the hot path). It is None before the first load and
while some transaction of this process holds flag writes it has not committed:
callers then go through ``runtime.current()``, which serves those writes until
the transaction ends and drops them if it rolled back (read your writes, even
inside a test's transaction that is rolled back and never commits).

No I/O here: loading and reconciling live in ``loading`` and ``sync``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import id_checks
from ..engine import CompiledFlag, Snapshot
from .changes import Head
from .codec import compile_flag

served: Snapshot | None = None
lock = threading.RLock()


@dataclass
class Base:
    """What this process knows to be committed."""

    snapshot: Snapshot | None = None
    head: Head | None = None  # every change up to it is in the snapshot
    definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = "none"  # database, redis, file, installed, empty
    changed_at: float = 0.0  # time.time() of the last change applied


class Layer:
    """One connection's open transaction: its flag writes (or a whole snapshot read inside it)."""

    __slots__ = ("changes", "connection", "own", "own_sentinel", "sentinels", "unread")

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.sentinels: list[Any] = []  # on_commit callbacks: gone from the connection = rolled back
        self.changes: dict[str, CompiledFlag | None] = {}
        self.unread: set[str] = set()  # written, not read back yet (read when the transaction reads)
        self.own: Snapshot | None = None  # a snapshot loaded inside the transaction
        self.own_sentinel: Any = None  # its on_commit callback


base = Base()
_layers: dict[int, Layer] = {}


# -- the committed snapshot ---------------------------------------------------------


def replace_base(snapshot: Snapshot, head: Head | None, definitions: dict[str, dict[str, Any]], source: str) -> None:
    with lock:
        base.snapshot = snapshot
        base.head = head
        base.definitions = definitions
        base.source = source
        base.changed_at = time.time()
        _update_served()


def apply(definitions: Mapping[str, dict[str, Any] | None], head: Head | None) -> bool:
    """Swap in these flags' definitions (None: deleted). With ``head``, the snapshot then holds
    every change up to it (refused if it is not newer than what is held); without, the data is
    newer than the head says and the head stays (a reconcile closes the gap)."""
    with lock:
        current = base.snapshot
        if current is None:
            return False
        held = base.head
        if (
            head is not None
            and held is not None
            and head.deployment == held.deployment
            and head.version <= held.version
        ):
            return False
        changed, removed = [], []
        kept = dict(base.definitions)
        for key, definition in definitions.items():
            compiled = None if definition is None else compile_flag(definition)
            if compiled is None:
                removed.append(key)
                kept.pop(key, None)
            else:
                changed.append(compiled)
                kept[key] = definition
        version = None if head is None else head.version
        base.snapshot = current.replace(changed, removed, version=version)
        base.definitions = kept
        if head is not None:
            base.head = head
        base.changed_at = time.time()
        _update_served()
        return True


def install(snapshot: Snapshot | None) -> None:
    """Serve this snapshot as it is (benchmarks, tests); None forgets everything."""
    with lock:
        base.snapshot = snapshot
        base.head = None
        base.definitions = {}
        base.source = "installed" if snapshot is not None else "none"
        _layers.clear()
        _update_served()


def forget(keep_layers: bool = False) -> None:
    with lock:
        base.snapshot = None
        base.head = None
        base.definitions = {}
        base.source = "none"
        if not keep_layers:
            _layers.clear()
        else:
            for found in _layers.values():
                found.own = None
        _update_served()


# -- open transactions ----------------------------------------------------------------
# Each layer belongs to one connection's open transaction; while any exists every thread of
# the process evaluates against the committed snapshot with every live layer's flags on top
# (as before this design, a change is served process-wide as soon as it is written), and a
# layer whose transaction rolled back is dropped at the next read.

_merged: tuple[int, Snapshot] | None = None
_generation = 0


def has_layers() -> bool:
    return bool(_layers)


def layers() -> list[Layer]:
    with lock:
        return list(_layers.values())


def layer(connection: Any, create: bool = False) -> Layer | None:
    with lock:
        found = _layers.get(id(connection))
        if found is not None and found.connection is not connection:
            found = None  # an id reused by another connection object
        if found is not None and create and not _any_pending(connection, found.sentinels):
            found = None  # the transaction it belonged to ended (a test's rollback) and this is a new one
        if found is None and create:
            found = _layers[id(connection)] = Layer(connection)
            _update_served()
        return found


def pending_callbacks(connection: Any) -> set[int]:
    """The ids of the on_commit callbacks the connection still holds (gone: rolled back)."""
    return {id(entry[1]) for entry in getattr(connection, "run_on_commit", ())}


def _any_pending(connection: Any, sentinels: list[Any]) -> bool:
    pending = pending_callbacks(connection)
    return any(id(sentinel) in pending for sentinel in sentinels)


def stage(connection: Any, sentinel: Any, keys: list[str]) -> None:
    """Serve these flags, as this connection's transaction sees them, until it ends."""
    with lock:
        found = layer(connection, create=True)
        assert found is not None
        found.sentinels.append(sentinel)
        found.unread.update(keys)
        _changed()


def settle(found: Layer, changes: Mapping[str, CompiledFlag | None]) -> None:
    with lock:
        found.changes.update(changes)
        found.unread.difference_update(changes)
        _changed()


def stage_snapshot(connection: Any, sentinel: Any, snapshot: Snapshot) -> None:
    """A snapshot read inside this connection's transaction: it may hold its uncommitted rows."""
    with lock:
        found = layer(connection, create=True)
        assert found is not None
        found.sentinels.append(sentinel)
        found.own = snapshot
        found.own_sentinel = sentinel
        _changed()


def drop(connection: Any) -> Layer | None:
    with lock:
        found = _layers.pop(id(connection), None)
        _changed()
        _update_served()
        return found


def merged() -> Snapshot | None:
    """The committed snapshot (or the newest one read inside a transaction) with every layer's flags."""
    global _merged
    with lock:
        if _merged is not None and _merged[0] == _generation:
            return _merged[1]
        live = list(_layers.values())
        owned = [found.own for found in live if found.own is not None]
        below = owned[-1] if owned else base.snapshot
        if below is None:
            return None
        changed: dict[str, CompiledFlag] = {}
        removed: set[str] = set()
        for found in live:
            for key, flag in found.changes.items():
                if flag is None:
                    removed.add(key)
                    changed.pop(key, None)
                else:
                    changed[key] = flag
                    removed.discard(key)
        snapshot = below.replace(changed.values(), removed) if changed or removed else below
        _merged = (_generation, snapshot)
        return snapshot


def _changed() -> None:
    global _generation
    _generation += 1
    id_checks.forget()


def _update_served() -> None:
    global served
    served = None if _layers else base.snapshot
    _changed()  # after the swap: id_checks.forget(), see featureflags/id_checks.py
