"""This process's snapshot: the entry points the rest of the product uses.

- :func:`current`: the snapshot to evaluate against (loaded on first use);
- :func:`announce`: called by ``services`` for each write, inside its transaction:
  the writing transaction sees its change at once (read your writes), and after
  commit the change is published to Redis and served by this process before the
  service call returns;
- :func:`refresh`, :func:`reset`, :func:`install`, :func:`status`.

The pieces: ``state`` (memory), ``loading`` (whole snapshots), ``sync`` (pub/sub
and the reconciler), ``publishing`` (to Redis), ``changes`` (the change log).
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from django.core.signals import setting_changed
from django.db import connections, router, transaction
from django.db.models.signals import post_migrate

from ..conf import flag_settings
from ..engine import Snapshot
from . import database, link, loading, publishing, state, sync
from .changes import Head
from .codec import compile_flag
from .redis_mirror import EMPTY

logger = logging.getLogger("featureflags.mirror")


def current() -> Snapshot:
    """The snapshot to evaluate against: this thread's transaction's view when it wrote flags."""
    if state.has_layers():
        return _in_transaction()
    snapshot = state.base.snapshot
    if snapshot is None:
        return load()
    return snapshot


def load() -> Snapshot:
    """The committed snapshot, loaded now if need be (inside a transaction: that transaction's view)."""
    conn = _connection()
    if conn is not None and conn.in_atomic_block:
        return _in_transaction()
    with state.lock:
        if state.base.snapshot is not None:
            return state.base.snapshot
        try:
            loaded, source = loading.start_up()
        except Exception as exc:  # no database here at all (a test without database access, a script)
            logger.debug("featureflags: no flags to load here: %s", exc)
            return Snapshot({}, version=-1, environment=loading.environment())
        if loaded is None:
            state.replace_base(Snapshot({}, version=-1, environment=loading.environment()), None, {}, "empty")
        else:
            snapshot, head, definitions = loaded
            state.replace_base(snapshot, head, definitions, source)
        sync.start()
        assert state.base.snapshot is not None
        return state.base.snapshot


def announce(keys: list[str], head: Head) -> None:
    """A write of ``keys`` logged as ``head`` in the current transaction. Never raises."""
    conn = _connection()
    try:
        if conn is not None and conn.in_atomic_block:
            _stage(conn, keys, head)
        else:
            _committed(keys, head)
    except Exception:  # a flag write must not fail because of its mirror
        logger.exception("featureflags: could not apply the change of %s", keys)


def refresh() -> Snapshot:
    """Reload the committed snapshot now (commands, tests); open transactions keep their writes."""
    with state.lock:
        state.forget(keep_layers=True)
        return current()


def reset() -> None:
    """Forget the snapshot, stop the thread and close Redis (settings changed, tests)."""
    _registered.clear()
    sync.stop()
    state.forget()
    link.close()
    sync.observed.__init__()


def publish_everything() -> None:
    """Replace Redis's copy with every flag the database holds (commands, benchmarks)."""
    _snapshot, head, definitions = loading.from_database()
    publishing.publish_all(link.mirror(head.deployment), head, definitions)


def install(snapshot: Snapshot) -> None:
    """Serve this snapshot until the next change or reset (benchmarks, tests)."""
    state.install(snapshot)


_behind: dict[str, Any] = {"head": None, "since": None}


def behind_since() -> float | None:
    """``time.monotonic()`` since when this process has not reached a head the database had then
    (None: it holds the database's head, or has reached every head seen since)."""
    mine, db_head = state.base.head, sync.observed.database_head
    target = _behind["head"]
    reached = mine is not None and target is not None and mine.deployment == target.deployment
    if target is not None and reached and mine.version >= target.version:
        _behind.update(head=None, since=None)
    if db_head is None or mine == db_head:
        _behind.update(head=None, since=None)
        return None
    if _behind["head"] is None:
        _behind.update(head=db_head, since=time.monotonic())
    return _behind["since"]


def status() -> dict[str, Any]:
    """This process's view of propagation: its head against the database's and Redis's.

    >>> featureflags.status()["lag"]   # changes the database holds that this process does not serve yet
    0
    """
    base, seen = state.base, sync.observed
    mine, db_head = base.head, seen.database_head
    lag = None
    if mine is not None and db_head is not None and mine.deployment == db_head.deployment:
        lag = max(0, db_head.version - mine.version)
    redis_head = seen.redis_head
    return {
        "mode": "redis" if link.configured() else "local",
        "deployment": None if mine is None else mine.deployment,
        "version": None if base.snapshot is None else base.snapshot.version,
        "head": None if mine is None else mine.version,
        "database_head": None if db_head is None else db_head.version,
        "database_deployment": None if db_head is None else db_head.deployment,
        "lag": lag,
        "in_sync": mine is not None and mine == db_head,
        "source": base.source,
        "flags": None if base.snapshot is None else len(base.snapshot),
        "database_ok": seen.database_ok,
        "redis_ok": link.ok,
        "redis_head": None if redis_head is None else redis_head[0],
        "seconds_since_check": None if not seen.checked_at else round(time.time() - seen.checked_at, 3),
        "seconds_since_sync": None if not seen.checked_at else round(time.time() - seen.checked_at, 3),
        "max_staleness": float(flag_settings.MAX_STALENESS),
        "last_error": seen.last_error or link.last_error,
        "thread_alive": sync.alive(),
    }


def lag_of(key: str, database_rev: int) -> dict[str, Any] | None:
    """How this process's copy of one flag differs from the database row at ``database_rev``
    (the version of the row's last change), or None when it serves that very change."""
    served = current()
    definition = state.base.definitions.get(key)
    served_rev = None if definition is None else definition.get("rev")
    if key in served.flags and (served_rev is None or served_rev >= database_rev):
        return None
    flag = served.flags.get(key)
    mine, db_head = state.base.head, sync.observed.database_head
    lag = None
    if mine is not None and db_head is not None and mine.deployment == db_head.deployment:
        lag = max(0, db_head.version - mine.version)
    return {
        "served": "unknown" if flag is None else ("ON" if flag.enabled else "OFF"),
        "served_rev": served_rev,
        "database_rev": database_rev,
        "lag": lag,
        "seconds_since_check": status()["seconds_since_check"],
    }


# -- inside a transaction ---------------------------------------------------------------


def _connection() -> Any:
    try:
        return connections[_alias()]
    except Exception:
        return None


def _alias() -> str:
    from ..models import Flag

    return router.db_for_write(Flag) or "default"


def _in_transaction() -> Snapshot:
    """The committed snapshot with the writes of every open transaction that made some."""
    conn = _connection()
    for found in state.layers():
        owner = found.connection
        alive = owner.in_atomic_block and _alive_sentinels(owner, found)
        if not alive:
            state.drop(owner)  # rolled back: its writes never happened
        elif alive < len(found.sentinels):
            _restage(owner, found)  # a savepoint rolled back some of them
    mine = None if conn is None else state.layer(conn)
    if mine is not None and mine.unread:
        _read_back(mine)  # only this connection sees its uncommitted rows
    snapshot = state.merged()
    if snapshot is not None:
        return snapshot
    if conn is not None and conn.in_atomic_block:
        return _load_in_transaction(conn)
    return load()


def _alive_sentinels(conn: Any, found: state.Layer) -> int:
    pending = state.pending_callbacks(conn)
    return sum(1 for sentinel in found.sentinels if id(sentinel) in pending)


def _load_in_transaction(conn: Any) -> Snapshot:
    """A snapshot read inside a transaction: served to it alone, kept only if it commits."""
    try:
        snapshot, head, definitions = loading.from_database()
    except Exception as exc:
        logger.debug("featureflags: no flags to load here: %s", exc)
        return Snapshot({}, version=-1, environment=loading.environment())

    def committed() -> None:
        if conn.in_atomic_block:
            return
        state.drop(conn)
        with state.lock:
            if state.base.snapshot is None:
                state.replace_base(snapshot, head, definitions, "database")
                sync.start()

    transaction.on_commit(committed, using=_alias())
    state.stage_snapshot(conn, committed, snapshot)
    return state.merged() or snapshot


def _stage(conn: Any, keys: list[str], head: Head) -> None:
    def committed() -> None:
        if conn.in_atomic_block:
            return  # a test running on_commit callbacks by hand: the layer serves the change
        state.drop(conn)
        try:
            _committed(keys, head)
        except Exception:  # committed all the same: the write must not fail, and this process must catch up
            logger.exception("featureflags: could not serve the committed change of %s here yet", keys)
            try:
                sync.wake()  # the reconciler reads the database's log (now, when there is no thread)
            except Exception:
                logger.exception("featureflags: could not reconcile after the change of %s", keys)

    transaction.on_commit(committed, using=_alias())
    state.stage(conn, committed, keys)  # read back only if the transaction reads flags before it ends


def _read_back(found: state.Layer) -> None:
    keys = sorted(found.unread)
    try:
        read = database.definitions(keys, known=state.base.definitions)
    except Exception as exc:  # a broken transaction: serve the committed flags, never raise
        logger.debug("featureflags: cannot read back %s in this transaction: %s", keys, exc)
        return
    state.settle(found, {key: (compile_flag(read[key]) if key in read else None) for key in keys})


def _restage(conn: Any, found: state.Layer) -> None:
    pending = state.pending_callbacks(conn)
    with state.lock:
        found.sentinels = [s for s in found.sentinels if id(s) in pending]
        if found.own is not None and id(found.own_sentinel) not in pending:
            found.own = found.own_sentinel = None  # read inside the part that rolled back
        found.unread.update(found.changes)
        found.changes.clear()


# -- after commit ---------------------------------------------------------------------------


_registered: set[str] = set()


def _committed(keys: list[str], head: Head) -> None:
    """Publish a committed change and serve it here, before the write returns."""
    if state.base.snapshot is None:
        load()  # reads the committed database, change included
        read = state.base.definitions
    else:
        read = database.definitions(keys, known=state.base.definitions)
    definitions = {key: read.get(key) for key in keys}
    if link.configured() and link.ok is not False:
        try:
            mirror = link.mirror(head.deployment)
            if head.deployment not in _registered:  # so a process without the database finds it
                mirror.register(str(connections["default"].settings_dict.get("NAME")))
                _registered.add(head.deployment)
            if publishing.publish_change(mirror, head.version - 1, head, definitions) == EMPTY:
                logger.warning("featureflags: Redis holds nothing; publishing every flag")
                _snapshot, full_head, everything = loading.from_database()
                publishing.publish_all(mirror, full_head, everything)
            link.up()
        except Exception as exc:  # the change is in the database's log: the reconciler repairs Redis
            link.down(exc)
    mine = state.base.head
    if mine is not None and mine.deployment == head.deployment and mine.version >= head.version:
        return  # already here (through pub/sub, or loaded after the commit)
    follows = mine is not None and mine.deployment == head.deployment and mine.version == head.version - 1
    state.apply(definitions, head if follows else None)
    if not follows:
        sync.wake()  # another change is missing here: catch up from the log


# -- settings, migrations, fork ---------------------------------------------------------------


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "FEATUREFLAGS":
        reset()


def _on_post_migrate(*, app_config: Any = None, **kwargs: Any) -> None:
    """The database was migrated or flushed (a test runner does both): forget what it held."""
    if app_config is not None and app_config.name == "featureflags":
        with state.lock:
            state.forget()


def _after_fork_in_child() -> None:
    """A forked worker keeps the snapshot but needs its own thread and connections."""
    state.lock = type(state.lock)()
    link.forget_after_fork()
    sync.forget_after_fork()


setting_changed.connect(_on_setting_changed, dispatch_uid="featureflags.store.runtime")
post_migrate.connect(_on_post_migrate, dispatch_uid="featureflags.store.runtime")
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
