"""Building a whole snapshot: from the database, from Redis, or from the last-known-good file."""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError

from ..conf import flag_settings
from ..engine import Snapshot
from ..engine.idset import IdSet
from . import changes, database, link, lkg
from .changes import Head
from .codec import compile_all, from_json
from .redis_mirror import registry_key

logger = logging.getLogger("featureflags.mirror")

Loaded = tuple[Snapshot, Head, dict[str, dict[str, Any]]]


def environment() -> str | None:
    return flag_settings.ENVIRONMENT


def from_database() -> Loaded:
    """Everything the database holds; the head is read first, so the data is never older than it."""
    head = changes.head()
    definitions = database.definitions()
    return Snapshot(compile_all(definitions), version=head.version, environment=environment()), head, definitions


def from_redis(deployment: str, expected: Head | None) -> Loaded | None:
    """What Redis holds for this deployment, if it holds ``expected`` (None: whatever it holds)."""
    mirror = link.mirror(deployment)
    redis_head, payloads = mirror.read_all()
    link.up()
    if redis_head is None:
        return None
    head = Head(deployment, redis_head[0], redis_head[1])
    if expected is not None and head != expected:
        return None  # behind, ahead or from another history: the database is read instead
    blobs: dict[str, IdSet] = {}

    def load_blob(name: str) -> IdSet:
        found = blobs.get(name)
        if found is None:
            found = blobs[name] = mirror.load_blob(name)
        return found

    definitions = {}
    for key, payload in payloads.items():
        try:
            definitions[key] = from_json(payload, load_blob)
        except (ValueError, KeyError, LookupError) as exc:
            logger.error("featureflags: unreadable definition of %r in Redis: %s", key, exc)
            return None  # never a snapshot with a hole: the database (or the file) instead
    return Snapshot(compile_all(definitions), version=head.version, environment=environment()), head, definitions


def from_file() -> Loaded | None:
    found = lkg.read()
    if found is None:
        return None
    head, definitions = found
    return Snapshot(compile_all(definitions), version=head.version, environment=environment()), head, definitions


def known_deployments() -> list[str]:
    """Deployments registered on this Redis server under this prefix (used when the database is down)."""
    return sorted(k.decode() for k in link.client().hkeys(registry_key(flag_settings.KEY_PREFIX)))


def start_up() -> tuple[Loaded | None, str]:
    """The first snapshot of a process and where it came from: Redis when it holds exactly the
    database's head, else the database; with the database down, Redis, else the file.

    Errors other than the database's (no database configured, access refused by a test
    runner) propagate: the caller then serves nothing and keeps nothing.
    """
    try:
        db_head: Head | None = changes.head()
    except DatabaseError as exc:
        logger.warning("featureflags: the database cannot be read (%s)", exc)
        db_head = None
    if db_head is not None:
        if link.configured():
            try:
                found = from_redis(db_head.deployment, expected=db_head)
                if found is not None:
                    return found, "redis"
            except Exception as exc:
                link.down(exc)
        try:
            return from_database(), "database"
        except DatabaseError as exc:
            logger.warning("featureflags: the database cannot be read (%s)", exc)
    saved = from_file()
    if link.configured():
        try:
            registered = known_deployments()
            deployment = saved[1].deployment if saved else (registered[0] if len(registered) == 1 else None)
            found = None if deployment is None else from_redis(deployment, expected=None)
            if found is not None and (saved is None or found[1].version >= saved[1].version):
                logger.warning("featureflags: the database is down; serving Redis's copy at %s", found[1].describe())
                return found, "redis"
        except Exception as exc:
            link.down(exc)
    if saved is not None:
        logger.warning(
            "featureflags: neither Redis nor the database answers; serving the last-known-good file %s (%s)",
            lkg.path(),
            saved[1].describe(),
        )
        return saved, "file"
    logger.error("featureflags: neither Redis, the database nor a last-known-good file: every flag is off")
    return None, "empty"
