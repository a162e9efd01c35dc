"""This process's connection to the product's Redis, and what it last saw of it."""

from __future__ import annotations

import logging
import threading
from typing import Any

from ..conf import flag_settings
from . import connection
from .redis_mirror import RedisMirror

logger = logging.getLogger("featureflags.mirror")

_lock = threading.Lock()
_client: Any = None
_bulk_client: Any = None
_mirrors: dict[str, RedisMirror] = {}
ok: bool | None = None  # None: not tried yet
last_error: str | None = None


def configured() -> bool:
    return connection.configured()


BULK_READ_TIMEOUT = 30.0  # reading or writing every flag (50,000 take a second or two)


def mirror(deployment: str) -> RedisMirror:
    """The mirror of one deployment (clients made on first use, one per process)."""
    global _client, _bulk_client
    with _lock:
        found = _mirrors.get(deployment)
        if found is None:
            if _client is None:
                _client = connection.new_client()
            if _bulk_client is None:
                _bulk_client = connection.new_client(read_timeout=BULK_READ_TIMEOUT)
            found = RedisMirror(_client, flag_settings.KEY_PREFIX, deployment, bulk_client=_bulk_client)
            _mirrors[deployment] = found
        return found


def client() -> Any:
    global _client
    with _lock:
        if _client is None:
            _client = connection.new_client()
        return _client


def down(exc: BaseException) -> None:
    global ok, last_error
    if ok is not False:
        logger.warning("featureflags: Redis unreachable (%s); serving the last snapshot", exc)
    ok = False
    last_error = f"redis: {type(exc).__name__}: {exc}"[:300]


def up() -> None:
    global ok
    if ok is False:
        logger.warning("featureflags: Redis is back")
    ok = True


def close() -> None:
    """Forget the clients (settings changed)."""
    global _client, _bulk_client, ok, last_error
    with _lock:
        clients, _client, _bulk_client = (_client, _bulk_client), None, None
        _mirrors.clear()
    ok = None
    last_error = None
    for client_ in clients:
        if client_ is not None:
            try:
                client_.close()
            except Exception:
                pass


def forget_after_fork() -> None:
    """A child must not share the parent's sockets: new clients on first use."""
    global _client, _bulk_client, _lock
    _lock = threading.Lock()
    _client = _bulk_client = None
    _mirrors.clear()
