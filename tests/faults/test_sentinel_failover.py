"""Past one machine: Redis primary + replica + three sentinels on loopback ports of
their own. The primary is killed while checks and writes go on: no check fails,
and updates resume through the promoted replica."""

from __future__ import annotations

import json
import threading

import pytest
import redis

import featureflags
from benchmarks._servers import RedisServer
from featureflags import services
from featureflags.guardrails import flusher
from featureflags.store import runtime

from .conftest import mirror_of, need, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.slow]

SERVICE = "ffprimary"


@pytest.fixture
def redis_cluster():
    """(primary, replica, [sentinel x3]), all killed and removed afterwards."""
    need("redis-server")
    servers: list[RedisServer] = []
    try:
        primary = RedisServer().start()
        servers.append(primary)
        replica = RedisServer(extra=["--replicaof", "127.0.0.1", str(primary.port)]).start()
        servers.append(replica)
        conf = (
            f"sentinel monitor {SERVICE} 127.0.0.1 {primary.port} 2\n"
            f"sentinel down-after-milliseconds {SERVICE} 500\n"
            f"sentinel failover-timeout {SERVICE} 5000\n"
            f"sentinel parallel-syncs {SERVICE} 1\n"
        )
        sentinels = []
        for _ in range(3):
            sentinel = RedisServer(sentinel_conf=conf).start()
            servers.append(sentinel)
            sentinels.append(sentinel)
        yield primary, replica, sentinels
    finally:
        for server in servers:
            server.cleanup()


def client(server: RedisServer) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=1, socket_connect_timeout=1)


def cluster_ready(replica: RedisServer, sentinels: list[RedisServer]) -> bool:
    """The replica is in sync and each sentinel knows the two others (needed for a vote)."""
    try:
        if client(replica).info("replication").get("master_link_status") != "up":
            return False
        return all(len(client(s).sentinel_sentinels(SERVICE)) == 2 for s in sentinels)
    except redis.RedisError:
        return False


def primary_port(sentinel: RedisServer) -> int | None:
    try:
        return int(client(sentinel).sentinel_get_master_addr_by_name(SERVICE)[1])
    except (redis.RedisError, TypeError):
        return None


class Checker(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.results: list[bool] = []
        self.errors: list[BaseException] = []

    def run(self) -> None:
        while not self.stop.is_set() and len(self.results) < 2_000_000:
            try:
                self.results.append(featureflags.is_enabled("ha", "42"))
            except BaseException as exc:
                self.errors.append(exc)
            self.stop.wait(0.001)


def test_checks_and_updates_survive_a_failover(settings, redis_cluster):
    primary, replica, sentinels = redis_cluster
    wait_until(lambda: cluster_ready(replica, sentinels), timeout=30, step=0.1)
    settings.FEATUREFLAGS = {
        **settings.FEATUREFLAGS,
        "REDIS_URL": None,
        "REDIS_SENTINELS": [f"127.0.0.1:{s.port}" for s in sentinels],
        "REDIS_SENTINEL_SERVICE": SERVICE,
        "KEY_PREFIX": "ha",
        "SYNC_THREAD": True,
        "MAX_STALENESS": 0.2,
        "REDIS_TIMEOUT": 0.3,
    }
    runtime.reset()
    services.create_flag("ha", enabled=True, percentage=100, actor="test")
    services.create_flag("during", enabled=False, actor="test")
    runtime.refresh()
    wait_until(lambda: client(replica).hexists(mirror_of(client(replica), "ha").defs_key, "during"), timeout=10)

    checker = Checker()
    checker.start()
    try:
        primary.stop()
        services.set_enabled("during", True, actor="test")  # written while Redis has no primary
        wait_until(lambda: primary_port(sentinels[0]) == replica.port, timeout=30, step=0.1)
        promoted = client(replica)
        # What was written during the failover reaches the new primary...
        defs_key = mirror_of(promoted, "ha").defs_key
        wait_until(lambda: json.loads(promoted.hget(defs_key, "during") or "{}").get("enabled") is True, timeout=15)
        # ...and writes after it go there directly.
        services.create_flag("after", enabled=True, actor="test")
        wait_until(lambda: promoted.hexists(mirror_of(promoted, "ha").defs_key, "after"), timeout=15)
        wait_until(lambda: runtime.status()["redis_ok"] is True, timeout=15)
    finally:
        checker.stop.set()
        checker.join(timeout=10)

    assert not checker.errors, checker.errors[:3]
    assert checker.results and all(checker.results), f"{checker.results.count(False)} failed checks"
    # A process starting now reads everything from the promoted replica.
    runtime.reset()
    assert runtime.current().version == mirror_of(promoted, "ha").head()[0]
    assert featureflags.is_enabled("during", "7") is True
    assert featureflags.is_enabled("after", "7") is True
    # The new process's own link: Sentinel may answer "no master" for a moment after the switch.
    wait_until(lambda: runtime.status()["redis_ok"] is True, timeout=15)
    # Usage counts (like guardrail counts and exposures) go through the same Sentinel client.
    flusher.stop()
    for _ in range(3):
        featureflags.is_enabled("after", "7")

    def counted() -> bool:
        flusher.flush()  # a flush Sentinel refuses for a moment keeps its counts for the next one
        return int(promoted.hget("ha:usage:count", "after") or 0) >= 3

    wait_until(counted, timeout=15, step=0.2)
