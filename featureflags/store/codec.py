"""Definitions as compiled flags, and as the JSON kept in Redis and in the last-known-good file."""

from __future__ import annotations

import base64
import gc
import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ..engine import CompiledFlag
from ..engine.idset import COMPACT_THRESHOLD, CompactIdSet, IdSet, id_set_from_bytes, id_set_to_bytes

logger = logging.getLogger("featureflags.mirror")

LIST_FIELDS = ("users", "excluded_users")


def compile_flag(definition: Mapping[str, Any]) -> CompiledFlag | None:
    try:
        return CompiledFlag(definition, validate=False)  # validated when written
    except Exception:
        # A definition that slipped past validation: the flag is off, nothing breaks.
        logger.exception("featureflags: flag %r cannot be compiled", definition.get("key"))
        return None


def compile_all(definitions: Mapping[str, Mapping[str, Any]]) -> dict[str, CompiledFlag]:
    flags = {}
    with collector_paused():
        for key, definition in definitions.items():
            compiled = compile_flag(definition)
            if compiled is not None:
                flags[key] = compiled
    return flags


def to_json(definition: Mapping[str, Any], blob: Callable[[bytes], str] | None) -> str:
    """The definition as JSON: small lists inline; a large one as ``{"blob": name}`` when
    ``blob`` stores the bytes and names them (Redis), else inline as base64 (the file)."""
    out = dict(definition)
    for field in LIST_FIELDS:
        value = definition.get(field)
        if not isinstance(value, IdSet):
            continue
        if not isinstance(value, CompactIdSet) and len(value) <= COMPACT_THRESHOLD:
            out[field] = sorted(value)  # type: ignore[arg-type]
        elif blob is not None:
            out[field] = {"blob": blob(id_set_to_bytes(value))}
        else:
            out[field] = {"b64": base64.b64encode(id_set_to_bytes(value)).decode()}
    return json.dumps(out, separators=(",", ":"), sort_keys=True)


def from_json(payload: str, load_blob: Callable[[str], IdSet] | None = None) -> dict[str, Any]:
    """The definition (large lists as IdSets); ValueError, KeyError or LookupError when unreadable."""
    definition = json.loads(payload)
    for field in LIST_FIELDS:
        value = definition.get(field)
        if isinstance(value, dict):
            if "b64" in value:
                definition[field] = id_set_from_bytes(base64.b64decode(value["b64"]))
            elif load_blob is not None:
                definition[field] = load_blob(value["blob"])
            else:
                raise LookupError(f"no way to read the blob {value.get('blob')!r}")
    return definition  # small lists stay lists: the engine compiles them with the flag


def digest(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()[:20]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Compiling thousands of flags allocates many objects that all stay alive:
    the cyclic garbage collector's passes over them would double the load time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
