"""The mirror on a 3-node Redis Cluster started here: its keys share one hash slot
(``{prefix}``), so the publish script runs, and a change reaches another process."""

from __future__ import annotations

import json
import random
import socket
import subprocess
import time

import pytest

import featureflags
from benchmarks import propagation
from benchmarks._servers import RedisServer
from featureflags import services
from featureflags.store import changes, runtime
from featureflags.store.redis_mirror import RedisMirror

from .conftest import need, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.slow]


def cluster_ports(count: int) -> list[int]:
    """Free ports whose cluster bus port (port + 10000) is valid and free too."""
    found: list[int] = []
    for port in random.sample(range(20_000, 40_000), 200):
        if all(port_is_free(p) for p in (port, port + 10_000)):
            found.append(port)
            if len(found) == count:
                return found
    raise RuntimeError("no free ports for a Redis Cluster")


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def cluster():
    need("redis-server")
    need("redis-cli")
    nodes: list[RedisServer] = []
    try:
        for port in cluster_ports(3):
            extra = ["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"]
            nodes.append(RedisServer(port=port, extra=extra).start())
        addresses = [f"127.0.0.1:{node.port}" for node in nodes]
        subprocess.run(
            ["redis-cli", "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        deadline = time.monotonic() + 20
        while (
            b"cluster_state:ok"
            not in subprocess.run(
                ["redis-cli", "-p", str(nodes[0].port), "cluster", "info"], capture_output=True, timeout=10
            ).stdout
        ):
            if time.monotonic() > deadline:
                raise AssertionError("the cluster did not reach cluster_state:ok")
            time.sleep(0.1)
        yield nodes
    finally:
        for node in nodes:
            node.cleanup()


def test_the_mirror_works_on_a_redis_cluster(settings, cluster):
    url = cluster[1].url  # any node: the client finds the others
    settings.FEATUREFLAGS = {
        **settings.FEATUREFLAGS,
        "REDIS_URL": url,
        "REDIS_CLUSTER": True,
        "KEY_PREFIX": "ffcluster",
        "SYNC_THREAD": True,
        "MAX_STALENESS": 0.3,
    }
    services.create_flag("clustered", enabled=True, percentage=0, actor="test")
    services.add_users("clustered", (f"u{i}" for i in range(12_000)), actor="test")  # a blob as well
    head = changes.head()
    from redis.cluster import RedisCluster

    client = RedisCluster.from_url(url)
    mirror = RedisMirror(client, "ffcluster", head.deployment)
    assert mirror.head() == (head.version, head.token)
    runtime.reset()  # a new process: loads from the cluster
    assert featureflags.is_enabled("clustered", "u11999") is True
    assert runtime.status()["source"] == "redis"
    wait_until(lambda: runtime.status()["redis_ok"] is True, timeout=5)

    env = propagation.worker_env(url, "ffcluster", staleness=0.3)
    env["FF_WORKER_SETTINGS"] = json.dumps({"REDIS_CLUSTER": True})
    workers = propagation.start_workers(1, "clustered", env)
    try:
        latencies = propagation.measure("clustered", workers, changes=20, timeout=5.0)
    finally:
        propagation.stop_workers(workers)
    assert len(latencies) == 20 and max(latencies) < 2.0, latencies
