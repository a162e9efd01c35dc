"""Changes written to Redis: after a commit, and when the reconciler repairs Redis."""

from __future__ import annotations

from typing import Any

from .changes import Head
from .codec import digest, to_json
from .redis_mirror import EMPTY, RedisMirror


def payloads(
    mirror: RedisMirror, definitions: dict[str, dict[str, Any] | None]
) -> tuple[dict[str, str | None], set[str]]:
    """The definitions as Redis keeps them (large lists uploaded as blobs), and the blobs used."""
    used: set[str] = set()

    def blob(data: bytes) -> str:
        name = mirror.blob_key(digest(data))
        if name not in used:
            mirror.upload_blob(name, data)
            used.add(name)
        return name

    out = {key: None if d is None else to_json(d, blob) for key, d in definitions.items()}
    return out, used


def publish_change(mirror: RedisMirror, first: int, head: Head, definitions: dict[str, dict[str, Any] | None]) -> int:
    """Publish the changes after version ``first`` up to ``head``; EMPTY when Redis holds nothing."""
    previous = mirror.previous_blobs(list(definitions))
    out, used = payloads(mirror, definitions)
    answer = mirror.publish(first, head.version, head.token, out)
    if answer != EMPTY:
        mirror.retire_blobs(sorted({b for blobs in previous.values() for b in blobs} - used))
    return answer


def publish_all(mirror: RedisMirror, head: Head, definitions: dict[str, dict[str, Any]]) -> int:
    """Replace everything Redis holds for this deployment with these definitions at ``head``."""
    out, _used = payloads(mirror, dict(definitions))
    return mirror.publish(0, head.version, head.token, out, full=True)
