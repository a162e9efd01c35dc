"""The audit log's hash chain: each entry carries the hash of the one before it.

Rewriting or deleting an entry (on PostgreSQL a trigger refuses both; elsewhere the
ORM does) breaks the chain at that entry, which ``manage.py flags audit verify``
reports. The hash covers every field but the link to the flag row, which a purge
clears.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connections, transaction

HASHED_FIELDS = ("at", "actor", "source", "source_detail", "action", "flag_key", "before", "after", "note")
# Any constant: the advisory lock that orders audit writers on PostgreSQL (others serialise writes).
_LOCK_ID = 0x6666_6175


def _plain(value: Any) -> Any:
    """JSON as the database gives it back: integral floats read as integers (PostgreSQL's jsonb)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _timestamp(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash and the entry's fields, canonically encoded."""
    data = {name: fields.get(name) for name in HASHED_FIELDS}
    data["at"] = _timestamp(data["at"])
    for name in ("before", "after"):
        data[name] = _plain(json.loads(json.dumps(data[name])))
    canonical = json.dumps([prev_hash, data], sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _fields(entry: Any) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in HASHED_FIELDS}


def chained_insert(entry: Any, insert: Callable[[], None]) -> None:
    """Insert ``entry`` as the chain's next link (one writer at a time)."""
    model = type(entry)
    alias = model.objects.db
    with transaction.atomic(using=alias):
        conn = connections[alias]  # the audit table's database, wherever a router puts it
        if conn.vendor == "postgresql":
            with conn.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])
        previous = model.objects.order_by("-id").values_list("entry_hash", flat=True).first()
        entry.prev_hash = previous or ""
        entry.entry_hash = entry_hash(entry.prev_hash, _fields(entry))
        insert()


@dataclass(frozen=True)
class Break:
    """Where the chain does not hold: the entry's id and what is wrong."""

    entry_id: int
    problem: str

    def __str__(self) -> str:
        return f"entry {self.entry_id}: {self.problem}"


def verify(entries: Iterable[Any] | None = None) -> tuple[int, list[Break]]:
    """Walk the chain oldest first; returns how many entries were checked and every break."""
    if entries is None:
        from .models import AuditEntry

        entries = AuditEntry.objects.order_by("id").iterator(chunk_size=2000)
    previous = ""
    checked = 0
    breaks: list[Break] = []
    for entry in entries:
        checked += 1
        if entry.prev_hash != previous:
            breaks.append(Break(entry.pk, "it does not carry the hash of the entry before it (one was removed?)"))
        if entry.entry_hash != entry_hash(entry.prev_hash, _fields(entry)):
            breaks.append(Break(entry.pk, "its content does not match its hash (it was rewritten)"))
        previous = entry.entry_hash
    return checked, breaks


def backfill(model: Any) -> None:
    """Chain entries written before the chain existed (the migration's step, with the historical
    model, whose plain queryset may update; the trigger comes after)."""
    previous = ""
    for entry in model._base_manager.order_by("id").iterator(chunk_size=2000):
        digest = entry_hash(previous, _fields(entry))
        model._base_manager.filter(pk=entry.pk).update(prev_hash=previous, entry_hash=digest)
        previous = digest
