"""This process's snapshot, and the thread that keeps it current.

Reading the snapshot is a module-global load: no lock, no I/O. A daemon thread
(started on first use, and again in a child after ``fork``) follows Redis
pub/sub, checks the published version at most once per ``MAX_STALENESS`` in
case a message was lost, re-publishes from the database when Redis comes back
empty, and keeps serving the last snapshot while Redis or the database is down.
Without Redis, the thread polls the database's version instead.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager
from typing import Any

from .. import id_checks
from ..conf import flag_settings
from ..engine import CompiledFlag, Snapshot
from ..engine.idset import IdSet
from . import connection

logger = logging.getLogger("featureflags.mirror")

_snapshot: Snapshot | None = None


def current() -> Snapshot:
    """The snapshot to evaluate against; loads it on first use."""
    snapshot = _snapshot
    if snapshot is None:
        return _state.load()
    return snapshot


def announce(keys: list[str]) -> None:
    """Called after a write commits: publish the flags and update this process. Never raises."""
    try:
        _state.announce(keys)
    except Exception:  # a flag write must not fail after its commit
        logger.exception("featureflags: could not publish %s", keys)


def refresh() -> Snapshot:
    """Reload everything now (tests, commands)."""
    return _state.refresh()


def reset() -> None:
    """Forget the snapshot and stop the thread (settings changed, tests)."""
    _state.stop()
    _set_snapshot(None)
    _state.__init__()


def install(snapshot: Snapshot) -> None:
    """Serve this snapshot until the next change or reset (benchmarks, tests)."""
    with _state.lock:
        _set_snapshot(snapshot)


def status() -> dict[str, Any]:
    return _state.status()


def _set_snapshot(snapshot: Snapshot | None) -> None:
    global _snapshot
    _snapshot = snapshot
    id_checks.forget()  # after the swap: see featureflags/id_checks.py


class _State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.raw: dict[str, str] = {}  # key -> definition JSON as last applied
        self.id_sets: dict[str, IdSet] = {}  # blob or list key -> compiled ids
        self.pending: set[str] | None = set()  # keys to publish when Redis returns; None: all
        self.redis_ok: bool | None = None
        self.last_sync: float = 0.0
        self._mirror = None
        self._client = None

    # -- set-up -----------------------------------------------------------------

    @property
    def uses_redis(self) -> bool:
        return connection.configured()

    @property
    def mirror(self):
        if self._mirror is None:
            from .redis_mirror import RedisMirror

            self._client = connection.new_client()
            self._mirror = RedisMirror(self._client, flag_settings.KEY_PREFIX)
        return self._mirror

    def environment(self) -> str | None:
        return flag_settings.ENVIRONMENT

    # -- loading ----------------------------------------------------------------

    def load(self) -> Snapshot:
        with self.lock:
            if _snapshot is not None:
                return _snapshot
            snapshot = None
            if self.uses_redis:
                snapshot = self._load_from_redis()
            if snapshot is None:
                snapshot = self._load_from_database()
            if snapshot is None:
                snapshot = Snapshot({}, version=-1, environment=self.environment())
            _set_snapshot(snapshot)
            self.start_thread()
            return snapshot

    def refresh(self) -> Snapshot:
        with self.lock:
            _set_snapshot(None)
            self.raw.clear()
            return self.load()

    def _load_from_redis(self) -> Snapshot | None:
        try:
            version, defs = self.mirror.read_all()
            self.redis_ok = True
        except Exception as exc:
            self._redis_down(exc)
            return None
        if version is None:
            return None  # Redis is empty: the database is read, and the thread re-publishes
        flags = self._compile_all(defs)
        self.raw = defs
        return Snapshot(flags, version=version, environment=self.environment())

    def _load_from_database(self) -> Snapshot | None:
        from . import database

        try:
            version = database.current_version()
            flags = {}
            raw = {}
            with _collector_paused():
                for flag in database.flags():
                    compiled = self._compile(self._database_definition(flag))
                    if compiled is not None:
                        flags[flag.key] = compiled
                        raw[flag.key] = str(flag.mirror_version)
        except Exception as exc:  # an outage of any kind must not break the page asking
            logger.warning("featureflags: the database cannot be read (%s); flags are off until it can", exc)
            return None
        if not self.uses_redis:
            self.raw = raw
        return Snapshot(flags, version=version, environment=self.environment())

    def _database_definition(self, flag) -> dict[str, Any]:
        from . import database

        definition = database.rule_definition(flag)
        for field in ("users", "excluded_users"):
            cache_key = f"db:{flag.key}:{field}:{flag.users_version}"
            id_set = self.id_sets.get(cache_key)
            if id_set is None:
                id_set = database.load_id_set(flag, field)
                self.id_sets = {k: v for k, v in self.id_sets.items() if not k.startswith(f"db:{flag.key}:{field}:")}
                self.id_sets[cache_key] = id_set
            definition[field] = id_set
        return definition

    def _compile_all(self, defs: dict[str, str]) -> dict[str, CompiledFlag]:
        flags = {}
        with _collector_paused():
            for key, payload in defs.items():
                compiled = self._compile_json(payload)
                if compiled is not None:
                    flags[key] = compiled
        return flags

    def _compile_json(self, payload: str) -> CompiledFlag | None:
        try:
            definition = json.loads(payload)
            for field in ("users", "excluded_users"):
                value = definition.get(field)
                if isinstance(value, dict):
                    blob = value["blob"]
                    id_set = self.id_sets.get(blob)
                    if id_set is None:
                        id_set = self.mirror.load_blob(blob)
                        self.id_sets[blob] = id_set
                    definition[field] = id_set
        except (ValueError, KeyError, LookupError) as exc:
            logger.error("featureflags: unreadable definition in Redis: %s", exc)
            return None
        return self._compile(definition)

    def _compile(self, definition: dict[str, Any]) -> CompiledFlag | None:
        try:
            return CompiledFlag(definition, validate=False)  # validated when written
        except Exception:
            # A definition that slipped past validation: the flag is off, nothing breaks.
            logger.exception("featureflags: flag %r cannot be compiled", definition.get("key"))
            return None

    # -- changes ----------------------------------------------------------------

    def announce(self, keys: list[str]) -> None:
        if not self.uses_redis:
            self._apply_from_database(keys)
            return
        try:
            if self.redis_ok is False:
                raise ConnectionError("Redis was down at the last attempt")
            version, payloads = self.mirror.publish(keys)
            self.redis_ok = True
        except Exception as exc:
            self._redis_down(exc)
            with self.lock:
                if self.pending is not None:
                    self.pending.update(keys)
            self._apply_from_database(keys, advance=False)
            return
        self._apply_payloads(version, payloads)

    def _apply_payloads(self, version: int, payloads: dict[str, str | None]) -> None:
        """Apply the changes of one published version; a gap means a full catch-up."""
        with self.lock:
            snapshot = current()
            if version <= snapshot.version:
                return
            if version != snapshot.version + 1:
                self._catch_up()
                return
            changed, removed = [], []
            for key, payload in payloads.items():
                if payload is None:
                    removed.append(key)
                    self.raw.pop(key, None)
                    continue
                compiled = self._compile_json(payload)
                if compiled is None:
                    removed.append(key)
                else:
                    changed.append(compiled)
                    self.raw[key] = payload
            _set_snapshot(snapshot.replace(changed, removed, version=version))

    def _apply_message(self, data: bytes) -> None:
        parts = data.decode().split()
        if not parts:
            return
        version, keys = int(parts[0]), parts[1:]
        if version <= current().version:
            return
        if version != current().version + 1:
            self._catch_up()
            return
        self._apply_payloads(version, self.mirror.read(keys))

    def _catch_up(self) -> None:
        """Diff everything Redis holds against what this process applied."""
        version, defs = self.mirror.read_all()
        if version is None:
            return
        with self.lock:
            snapshot = current()
            if version <= snapshot.version and defs.keys() == self.raw.keys():
                return
            changed = []
            removed = [key for key in self.raw if key not in defs]
            for key, payload in defs.items():
                if self.raw.get(key) != payload:
                    compiled = self._compile_json(payload)
                    if compiled is None:
                        removed.append(key)
                    else:
                        changed.append(compiled)
            self.raw = dict(defs)
            live_blobs = {v.get("blob") for p in defs.values() for v in _list_refs(p)}
            self.id_sets = {k: v for k, v in self.id_sets.items() if k in live_blobs or k.startswith("db:")}
            _set_snapshot(snapshot.replace(changed, removed, version=max(version, snapshot.version)))

    def _apply_from_database(self, keys: Iterable[str], advance: bool = True) -> None:
        from . import database

        with self.lock:
            snapshot = current()
            version = database.current_version()
            found = {flag.key: flag for flag in database.flags(list(keys))}
            changed = []
            removed = [key for key in keys if key not in found]
            for flag in found.values():
                compiled = self._compile(self._database_definition(flag))
                if compiled is None:
                    removed.append(flag.key)
                else:
                    changed.append(compiled)
                    if not self.uses_redis:
                        self.raw[flag.key] = str(flag.mirror_version)
            for key in removed:
                if not self.uses_redis:
                    self.raw.pop(key, None)
            # Without a consecutive version, other changes may be missing: keep the
            # old version so the next check catches up.
            new_version = version if advance and version == snapshot.version + 1 else snapshot.version
            _set_snapshot(snapshot.replace(changed, removed, version=new_version))

    # -- the thread ---------------------------------------------------------------

    def start_thread(self) -> None:
        if not flag_settings.SYNC_THREAD or (self.thread is not None and self.thread.is_alive()):
            return
        self.stop_event = threading.Event()
        target = self._follow_redis if self.uses_redis else self._poll_database
        self.thread = threading.Thread(target=target, name="featureflags-mirror", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self.thread = None
        if self._client is not None:
            try:
                self._client.close()
            except Exception:
                pass

    def _follow_redis(self) -> None:
        stop = self.stop_event
        staleness = float(flag_settings.MAX_STALENESS)
        backoff = 0.05
        while not stop.is_set():
            pubsub = None
            try:
                pubsub = self.mirror.client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.mirror.channel)
                self._sync()
                backoff = 0.05
                while not stop.is_set():
                    message = pubsub.get_message(timeout=staleness)
                    if message is not None and message.get("type") == "message":
                        self._apply_message(message["data"])
                    if time.monotonic() - self.last_sync >= staleness:
                        self._sync()
            except Exception as exc:
                self._redis_down(exc)
                stop.wait(backoff)
                backoff = min(backoff * 2, staleness)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:
                        pass
                _close_database_connections()

    def _sync(self) -> None:
        """Publish what failed to reach Redis, re-seed an empty Redis, catch up if behind."""
        mirror = self.mirror
        with self.lock:
            pending, self.pending = self.pending, set()
        try:
            if pending is None or pending:
                mirror.publish(None if pending is None else sorted(pending))
            version = mirror.version()
            behind = version is not None and version < current().version
            if (version is None or behind) and mirror.try_lock_resync():
                # Redis restarted empty, or missed writes made while it was away.
                logger.warning("featureflags: Redis is empty or behind the database; publishing every flag")
                mirror.publish(None)
                version = mirror.version()
        except Exception:
            with self.lock:
                self.pending = None if pending is None or self.pending is None else self.pending | pending
            raise
        finally:
            _close_database_connections()
        if self.redis_ok is False:
            logger.warning("featureflags: Redis is back")
        self.redis_ok = True
        if version is not None and version > current().version:
            self._catch_up()
        self.last_sync = time.monotonic()

    def _poll_database(self) -> None:
        from . import database

        stop = self.stop_event
        staleness = float(flag_settings.MAX_STALENESS)
        while not stop.wait(staleness):
            try:
                version = database.current_version()
                if version != current().version:
                    self._reload_changed_from_database(version)
                self.last_sync = time.monotonic()
            except Exception as exc:
                logger.warning("featureflags: cannot check the database for flag changes: %s", exc)
            finally:
                _close_database_connections()

    def _reload_changed_from_database(self, version: int) -> None:
        from ..models import Flag

        local = self.raw
        rows = dict(Flag.objects.values_list("key", "mirror_version"))
        stale = [key for key, rev in rows.items() if local.get(key) != str(rev)]
        gone = [key for key in local if key not in rows]
        self._apply_from_database(stale + gone, advance=False)
        with self.lock:
            _set_snapshot(current().replace(version=version))

    def _redis_down(self, exc: Exception) -> None:
        if self.redis_ok is not False:
            logger.warning("featureflags: Redis unreachable (%s); serving the last snapshot", exc)
        self.redis_ok = False

    def status(self) -> dict[str, Any]:
        snapshot = _snapshot
        return {
            "mode": "redis" if self.uses_redis else "local",
            "version": None if snapshot is None else snapshot.version,
            "flags": None if snapshot is None else len(snapshot),
            "redis_ok": self.redis_ok,
            "seconds_since_sync": None if not self.last_sync else round(time.monotonic() - self.last_sync, 3),
            "thread_alive": bool(self.thread and self.thread.is_alive()),
        }


def _list_refs(payload: str) -> list[dict]:
    try:
        definition = json.loads(payload)
    except ValueError:
        return []
    return [v for v in (definition.get("users"), definition.get("excluded_users")) if isinstance(v, dict)]


@contextmanager
def _collector_paused():
    """Compiling thousands of flags allocates many objects that all stay alive:
    the cyclic garbage collector's passes over them would double the load time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _close_database_connections() -> None:
    try:
        from django.db import connections

        connections.close_all()  # this thread's connections only: they are thread-local
    except Exception:
        pass


def _after_fork_in_child() -> None:
    """A forked worker keeps the snapshot but needs its own thread and connections."""
    had_thread = _state.thread is not None
    _state.lock = threading.RLock()
    _state.thread = None
    _state._mirror = None
    _state._client = None
    if had_thread and _snapshot is not None:
        _state.start_thread()


_state = _State()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
