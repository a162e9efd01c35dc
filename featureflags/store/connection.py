"""The product's Redis: one way to reach it for the mirror, the counters and the checks.

``REDIS_URL`` alone names the server; with ``REDIS_SENTINELS`` the sentinels find
``REDIS_SENTINEL_SERVICE``'s current primary (again after a failover), and
``REDIS_URL``, if set, only gives the database number and credentials.
"""

from __future__ import annotations

from typing import Any

from ..conf import flag_settings


def configured() -> bool:
    """Is there a Redis to use (a URL or sentinels)?"""
    return bool(flag_settings.REDIS_URL or flag_settings.REDIS_SENTINELS)


def describe() -> str:
    """Where the product's Redis is, for messages (no password)."""
    if flag_settings.REDIS_SENTINELS:
        sentinels = ", ".join(f"{host}:{port}" for host, port in map(host_port, flag_settings.REDIS_SENTINELS))
        return f"service {flag_settings.REDIS_SENTINEL_SERVICE!r} through the sentinels {sentinels}"
    from redis.connection import parse_url

    try:
        parts = parse_url(flag_settings.REDIS_URL)
    except Exception:
        return "REDIS_URL (unparsable)"
    return f"{parts.get('host', '?')}:{parts.get('port', 6379)}/{parts.get('db', 0)}"


def new_client(timeout: float | None = None, read_timeout: float | None = None) -> Any:
    """A redis-py client with the product's timeouts; reconnects by itself (health checks every 30 s).

    ``read_timeout`` (default: ``timeout``) for clients that move every flag at once."""
    import redis

    timeout = flag_settings.REDIS_TIMEOUT if timeout is None else timeout
    timeouts = {"socket_timeout": read_timeout or timeout, "socket_connect_timeout": timeout}
    if flag_settings.REDIS_SENTINELS:
        from redis.connection import parse_url
        from redis.sentinel import Sentinel

        url = flag_settings.REDIS_URL
        options = {k: v for k, v in (parse_url(url) if url else {}).items() if k in ("db", "username", "password")}
        sentinels = [host_port(address) for address in flag_settings.REDIS_SENTINELS]
        sentinel = Sentinel(sentinels, sentinel_kwargs=timeouts, **timeouts)
        return sentinel.master_for(
            flag_settings.REDIS_SENTINEL_SERVICE, health_check_interval=30, **timeouts, **options
        )
    if flag_settings.REDIS_CLUSTER:  # REDIS_URL names any node; the client finds the others
        from redis.cluster import RedisCluster

        return RedisCluster.from_url(flag_settings.REDIS_URL, **timeouts)
    return redis.Redis.from_url(flag_settings.REDIS_URL, health_check_interval=30, **timeouts)


def host_port(address: Any) -> tuple[str, int]:
    """("host", port) from "host:port" or a (host, port) pair."""
    if isinstance(address, (list, tuple)):
        return str(address[0]), int(address[1])
    host, _, port = str(address).rpartition(":")
    return host, int(port)
