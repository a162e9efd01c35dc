"""The last-known-good file: this host's copy of the snapshot, for a start with neither
Redis nor the database.

Written atomically (a temporary file, then ``os.replace``) by the sync thread after
the snapshot changed; read only when both stores fail at start-up. The default path
is in the temporary directory, named after the database and the key prefix, so two
projects on one host never read each other's file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import tempfile
from typing import Any

from django.db import connections

from ..conf import flag_settings
from .changes import Head
from .codec import from_json, to_json

logger = logging.getLogger("featureflags.mirror")
FORMAT = 1


def path() -> str | None:
    """Where the file is, or None when it is switched off (``SNAPSHOT_FILE = False``)."""
    configured = flag_settings.SNAPSHOT_FILE
    if configured is False:
        return None
    if configured:
        return str(configured)
    settings = connections["default"].settings_dict
    where = f"{settings.get('ENGINE')}|{settings.get('HOST')}|{settings.get('PORT')}|{settings.get('NAME')}"
    name = hashlib.sha1(f"{where}|{flag_settings.KEY_PREFIX}".encode(), usedforsecurity=False).hexdigest()[:16]
    return os.path.join(tempfile.gettempdir(), f"featureflags-{name}.json")


def write(head: Head | None, definitions: dict[str, dict[str, Any]]) -> bool:
    """Replace the file with these definitions; False (logged once per cause) when it cannot."""
    target = path()
    if target is None or head is None:
        return False
    document = {
        "format": FORMAT,
        "deployment": head.deployment,
        "version": head.version,
        "token": head.token,
        "flags": {key: to_json(definition, None) for key, definition in definitions.items()},
    }
    directory = os.path.dirname(target) or "."
    try:
        fd, temporary = tempfile.mkstemp(prefix=".featureflags-", dir=directory)
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle, separators=(",", ":"))
        os.replace(temporary, target)
        return True
    except OSError as exc:
        logger.warning("featureflags: cannot write the last-known-good file %s: %s", target, exc)
        return False


def read() -> tuple[Head, dict[str, dict[str, Any]]] | None:
    target = path()
    if target is None:
        return None
    try:
        with open(target) as handle:
            if not _ours(os.fstat(handle.fileno())):
                logger.error("featureflags: ignoring %s: another user owns it or may write to it", target)
                return None
            document = json.load(handle)
        if document.get("format") != FORMAT:
            return None
        head = Head(document["deployment"], int(document["version"]), document["token"])
        return head, {key: from_json(payload) for key, payload in document["flags"].items()}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, LookupError) as exc:
        logger.error("featureflags: the last-known-good file %s is unreadable: %s", target, exc)
        return None


def _ours(info: os.stat_result) -> bool:
    """The default file sits in the shared temporary directory: serve only one this user wrote,
    that nobody else may write to (mkstemp makes it 0600)."""
    if not hasattr(os, "getuid"):
        return True
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
