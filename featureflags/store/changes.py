"""The change log in the database: the only truth about what changed, and in what order.

Every write calls :func:`record` inside its own transaction. It raises the one
``MirrorState`` row (whose row lock orders concurrent writers, so two commits
never share a version and versions commit in order) and appends a ``ChangeLog``
row naming the flags changed. A crash after commit, a Redis partition, or a
writer without Redis loses nothing: the reconciler of every process reads the
head (:func:`head`, one primary-key lookup) and catches up from the log.
"""

from __future__ import annotations

import secrets
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import F

from ..models import ChangeLog, MirrorState

# The log keeps the last KEEP changes: a process further behind than that reloads everything.
KEEP = 10_000
PRUNE_EVERY = 1_000


class Head(NamedTuple):
    """Where a history stands: which database, how far, and the mark of its last change."""

    deployment: str
    version: int
    token: str

    def describe(self) -> str:
        return f"{self.deployment}@{self.version}"


def new_token() -> str:
    return secrets.token_hex(8)


def head() -> Head:
    """The database's head; names the deployment first if nobody has (a new or flushed database)."""
    row = MirrorState.objects.filter(pk=1).values_list("deployment", "version", "token").first()
    if row is None or not row[0]:
        return _name_deployment()
    return Head(*row)


def record(keys: list[str]) -> Head:
    """Log a change of ``keys`` in the current transaction; returns the head it makes."""
    token = new_token()
    if not MirrorState.objects.filter(pk=1).update(version=F("version") + 1, token=token):
        _name_deployment()
        MirrorState.objects.filter(pk=1).update(version=F("version") + 1, token=token)
    deployment, version = MirrorState.objects.values_list("deployment", "version").get(pk=1)
    if not deployment:
        deployment = _name_deployment().deployment
    ChangeLog.objects.create(version=version, token=token, keys=list(keys))
    if version % PRUNE_EVERY == 0:
        ChangeLog.objects.filter(version__lte=version - KEEP).delete()
    return Head(deployment, version, token)


def since(mine: Head) -> tuple[Head, set[str]] | None:
    """(the head, the keys changed after ``mine``), or None when ``mine`` is not in this
    database's history (restored from a dump, a new database): reload everything."""
    if mine.version <= 0:
        return None
    rows = list(
        ChangeLog.objects.filter(version__gte=mine.version).order_by("version").values_list("version", "token", "keys")
    )
    if not rows or rows[0][0] != mine.version or rows[0][1] != mine.token:
        return None
    keys: set[str] = set()
    for _version, _token, changed in rows[1:]:
        keys.update(changed)
    last = rows[-1]
    return Head(mine.deployment, last[0], last[1]), keys


def _name_deployment() -> Head:
    """Create (or complete) the head row with a random deployment id."""
    deployment = new_token()
    try:
        with transaction.atomic():
            if not MirrorState.objects.filter(pk=1, deployment="").update(deployment=deployment):
                MirrorState.objects.create(pk=1, version=0, token="", deployment=deployment)
    except IntegrityError:  # another process created it first
        pass
    return Head(*MirrorState.objects.values_list("deployment", "version", "token").get(pk=1))
