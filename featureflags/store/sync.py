"""The thread that keeps this process's snapshot equal to the database's.

Two paths. The fast one follows the deployment's Redis channel and applies each
change in milliseconds, when it follows on from what this process holds. The
safe one, the reconciler, reads the database's head once per ``MAX_STALENESS``
(one primary-key query) and, when it differs from this process's, catches up
from the change log (or reloads everything when the history is not the one this
process knows: a database restored or replaced). The same pass repairs Redis
when its head differs from the database's for more than one interval, and
writes the last-known-good file after a change.

Started on first use, and again in a child after ``fork``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis
from django.db import DatabaseError, connections

from ..conf import flag_settings
from . import changes, database, link, lkg, loading, publishing, state
from .changes import Head
from .codec import from_json
from .redis_mirror import EMPTY

logger = logging.getLogger("featureflags.mirror")

HEARTBEAT_SECONDS = 30.0
MAX_KEYS_PER_MESSAGE = 1000  # more changed flags than this: one reconcile instead of a long HMGET


class Observed:
    """What the reconciler last saw (for ``featureflags.status()``)."""

    def __init__(self) -> None:
        self.database_head: Head | None = None
        self.database_ok: bool | None = None
        self.redis_head: tuple[int, str] | None = None
        self.checked_at: float = 0.0  # time.time() of the last successful check of the database
        self.last_error: str | None = None
        self.suspect: tuple[int, str] | bool | None = False  # Redis's head when it last looked wrong
        self.file_written_at: float = 0.0
        self.heartbeat_at: float = 0.0


observed = Observed()
_thread: threading.Thread | None = None
_stop = threading.Event()
_wake = threading.Event()


def start() -> None:
    global _thread, _stop
    if not flag_settings.SYNC_THREAD or (_thread is not None and _thread.is_alive()):
        return
    _stop = threading.Event()
    _thread = threading.Thread(target=_run, args=(_stop,), name="featureflags-sync", daemon=True)
    _thread.start()


def stop() -> None:
    global _thread
    _stop.set()
    _wake.set()
    thread = _thread
    if thread is not None and thread is not threading.current_thread():
        thread.join(timeout=5)
    _thread = None


def alive() -> bool:
    return bool(_thread and _thread.is_alive())


def wake() -> None:
    """Reconcile soon (a gap was seen); at once and here when there is no thread."""
    if alive():
        _wake.set()
    else:
        reconcile(close=False)


def forget_after_fork() -> None:
    global _thread, _stop, _wake
    had_thread = _thread is not None
    _thread = None
    _stop = threading.Event()
    _wake = threading.Event()
    if had_thread and state.base.snapshot is not None:
        start()


# -- the loop -------------------------------------------------------------------------


def _run(stop: threading.Event) -> None:
    staleness = float(flag_settings.MAX_STALENESS)
    pubsub: Any = None
    subscribed_to: str | None = None
    retry_redis_at = 0.0
    backoff = 0.05
    next_check = 0.0
    while not stop.is_set():
        now = time.monotonic()
        if now >= next_check or _wake.is_set():
            _wake.clear()
            reconcile()
            next_check = time.monotonic() + staleness
        deployment = state.base.head.deployment if state.base.head is not None else None
        if pubsub is not None and subscribed_to != deployment:
            pubsub = _close(pubsub)
        if link.configured() and pubsub is None and deployment is not None and time.monotonic() >= retry_redis_at:
            try:
                pubsub = link.client().pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(link.mirror(deployment).channel)
                subscribed_to = deployment
                backoff = 0.05
                _wake.set()  # a message may have been missed while not subscribed
                continue
            except Exception as exc:
                link.down(exc)
                pubsub = _close(pubsub)
                retry_redis_at = time.monotonic() + backoff
                backoff = min(backoff * 2, staleness)
        wait = max(0.0, next_check - time.monotonic())
        if pubsub is None:
            _wake.wait(min(wait, max(0.0, retry_redis_at - time.monotonic()) or wait))
            continue
        try:
            message = pubsub.get_message(timeout=wait)
            if message is not None and message.get("type") == "message":
                _on_message(message["data"])
        except Exception as exc:
            link.down(exc)
            pubsub = _close(pubsub)
            retry_redis_at = time.monotonic() + backoff
            _wake.set()
    _close(pubsub)
    _close_database_connections(force=True)


def _close(pubsub: Any) -> None:
    if pubsub is not None:
        try:
            pubsub.close()
        except Exception:
            pass
    return None


# -- the fast path: a change announced on the channel -------------------------------------


def _on_message(data: bytes) -> None:
    parts = data.decode().split()
    mine = state.base.head
    if len(parts) < 3 or mine is None or state.base.snapshot is None:
        return
    if parts[0] == "reset":
        if (int(parts[1]), parts[2]) != (mine.version, mine.token):
            _wake.set()
        return
    first, last, token, names = int(parts[0]), int(parts[1]), parts[2], parts[3:]
    if last <= mine.version:
        return
    if first > mine.version or len(names) > MAX_KEYS_PER_MESSAGE:
        _wake.set()  # a change in between is missing here: the database says what it was
        return
    mirror = link.mirror(mine.deployment)
    keys = [name.lstrip("-") for name in names]
    redis_head, payloads = mirror.read([k for k, n in zip(keys, names) if not n.startswith("-")])
    if redis_head is None or redis_head[0] < last:
        _wake.set()  # Redis lost it meanwhile (flushed, restarted): trust nothing it says now
        return
    definitions: dict[str, dict[str, Any] | None] = {}
    for key, name in zip(keys, names):
        if name.startswith("-"):
            definitions[key] = None
            continue
        payload = payloads.get(key)
        if payload is None:
            _wake.set()
            return
        try:
            definitions[key] = from_json(payload, mirror.load_blob)
        except (ValueError, KeyError, LookupError):
            _wake.set()
            return
    state.apply(definitions, Head(mine.deployment, last, token))


# -- the safe path: the database's head -----------------------------------------------------


def reconcile(close: bool = True) -> None:
    """One check of the database's head; catch up, reload or repair Redis as needed. Never raises.

    ``close=False`` when called from a thread that is not ours (its connection is its own)."""
    try:
        _shared_memory_database_reads()
        db_head = changes.head()
        observed.database_head = db_head
        observed.database_ok = True
        observed.checked_at = time.time()
        _catch_up(db_head)
        if link.configured():
            _repair_redis(db_head)
        _write_file()
    except DatabaseError as exc:
        if observed.database_ok is not False:
            logger.warning("featureflags: cannot check the database for flag changes: %s", exc)
        observed.database_ok = False
        observed.last_error = f"database: {type(exc).__name__}: {exc}"[:300]
        if close:
            _close_database_connections(force=True)
    except Exception as exc:  # Redis, or a bug: the next pass tries again
        if link.configured() and _is_redis_error(exc):
            link.down(exc)
        else:
            logger.exception("featureflags: reconciling the flags failed")
            observed.last_error = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        if close:
            _close_database_connections()


def _catch_up(db_head: Head) -> None:
    mine = state.base.head
    if state.base.snapshot is None or mine is None:
        snapshot, head, definitions = loading.from_database()
        state.replace_base(snapshot, head, definitions, "database")
        return
    if mine == db_head:
        return
    found = None
    if mine.deployment == db_head.deployment and db_head.version > mine.version:
        found = changes.since(mine)
    if found is not None:
        head, keys = found
        read = database.definitions(sorted(keys), known=state.base.definitions)
        state.apply({key: read.get(key) for key in keys}, head)
        return
    if mine.deployment != db_head.deployment:
        why = "a different database (new, flushed or replaced)"
    else:
        why = "a database whose history differs from this process's (restored from a backup?)"
    logger.warning(
        "featureflags: %s at %s (this process: %s); reloading every flag", why, db_head.describe(), mine.describe()
    )
    snapshot, head, definitions = loading.from_database()
    state.replace_base(snapshot, head, definitions, "database")


def _repair_redis(db_head: Head) -> None:
    """Bring Redis to the database's head when it stayed elsewhere for a whole interval."""
    mirror = link.mirror(db_head.deployment)
    redis_head = mirror.head()
    link.up()
    observed.redis_head = redis_head
    now = time.time()
    if now - observed.heartbeat_at > HEARTBEAT_SECONDS:
        mirror.register(str(connections["default"].settings_dict.get("NAME")))
        observed.heartbeat_at = now
    if redis_head == (db_head.version, db_head.token):
        observed.suspect = False
        return
    if redis_head is not None and observed.suspect != redis_head:
        observed.suspect = redis_head  # a publish may be under way: look again next time
        return
    if not mirror.try_lock_resync(float(flag_settings.MAX_STALENESS) * 2):
        return
    found = None
    if redis_head is not None and redis_head[0] < db_head.version:
        found = changes.since(Head(db_head.deployment, redis_head[0], redis_head[1]))
    if found is not None:
        head, keys = found
        read = database.definitions(sorted(keys), known=state.base.definitions)
        logger.warning(
            "featureflags: Redis is behind the database (%s < %s); publishing the changes", redis_head[0], head.version
        )
        answer = publishing.publish_change(mirror, redis_head[0], head, {key: read.get(key) for key in keys})
        if answer != EMPTY:
            observed.suspect = False
            return
    logger.warning("featureflags: Redis is empty or holds another history; publishing every flag")
    _snapshot, head, definitions = loading.from_database()
    publishing.publish_all(mirror, head, definitions)
    observed.suspect = False


def _write_file() -> None:
    if state.base.source == "file" or state.base.changed_at <= observed.file_written_at:
        return
    changed_at = state.base.changed_at
    with state.lock:
        head, definitions = state.base.head, dict(state.base.definitions)
    if lkg.write(head, definitions):
        observed.file_written_at = changed_at


def _shared_memory_database_reads() -> None:
    """SQLite's shared in-memory database (a test run's) locks whole tables between
    connections: this thread's reads would make the test's writes fail. Read without
    taking those locks (``read_uncommitted`` applies to shared-cache connections only)."""
    conn = connections["default"]
    if conn.vendor == "sqlite" and conn.is_in_memory_db():
        with conn.cursor() as cursor:
            cursor.execute("PRAGMA read_uncommitted = 1")


def _is_redis_error(exc: BaseException) -> bool:
    return isinstance(exc, (redis.RedisError, OSError))


def _close_database_connections(force: bool = False) -> None:
    """This thread's connections (thread-local): kept only when the project keeps connections."""
    try:
        for conn in connections.all(initialized_only=True):
            if force or not conn.settings_dict.get("CONN_MAX_AGE"):
                conn.close()
    except Exception:
        pass
