"""Redis stopped mid-run: checks go on from the last snapshot, writes succeed and
reach Redis once it is back. Uses a private redis-server on a port of its own."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time

import pytest
import redis

import featureflags
from featureflags import services
from featureflags.store import changes, runtime
from featureflags.store.redis_mirror import RedisMirror
from tests.conftest import IN_CI

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        for _ in range(200):
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.02)
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis(settings):
    if shutil.which("redis-server") is None:
        if IN_CI:
            pytest.fail("redis-server is required under CI")
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(free_port())
    server.start()
    settings.FEATUREFLAGS = {
        **settings.FEATUREFLAGS,
        "REDIS_URL": f"redis://127.0.0.1:{server.port}/0",
        "SYNC_THREAD": True,
        "MAX_STALENESS": 0.2,
        "REDIS_TIMEOUT": 0.2,
    }
    runtime.reset()
    yield server
    runtime.reset()
    server.stop()


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def defs_key() -> str:
    return RedisMirror(redis.Redis(), "featureflags", changes.head().deployment).defs_key


def test_checks_continue_and_writes_catch_up_after_redis_returns(private_redis):
    services.create_flag("f", enabled=True, percentage=100, rules=["^vip"])
    client = redis.Redis(port=private_redis.port)
    assert json.loads(client.hget(defs_key(), "f"))["percentage"] == 100
    assert featureflags.is_enabled("f", "anyone") is True

    private_redis.stop()
    started = time.monotonic()
    for _ in range(200):
        assert featureflags.is_enabled("f", "anyone") is True
        assert featureflags.is_enabled("f", "vip-1") is True
    assert time.monotonic() - started < 1.0  # no check waits on the dead server

    services.set_percentage("f", 0, actor="oncall")  # the database is the truth: this succeeds
    assert featureflags.is_enabled("f", "anyone") is False  # and this process sees it at once
    assert featureflags.is_enabled("f", "vip-1") is True

    private_redis.start()  # comes back empty (no persistence)
    client = redis.Redis(port=private_redis.port)
    assert wait_until(lambda: client.hget(defs_key(), "f") is not None, timeout=10)
    assert json.loads(client.hget(defs_key(), "f"))["percentage"] == 0
    assert runtime.status()["redis_ok"] is True
    assert featureflags.is_enabled("f", "anyone") is False


def test_start_up_with_redis_down_reads_the_database(private_redis):
    services.create_flag("f", enabled=True)
    private_redis.stop()
    runtime.reset()
    assert featureflags.is_enabled("f") is True
    assert runtime.status()["redis_ok"] is False


def test_a_write_made_while_redis_is_unreachable_is_published_when_it_answers(private_redis):
    services.create_flag("f", enabled=True, percentage=100)
    client = redis.Redis(port=private_redis.port)
    mirror = RedisMirror(client, "featureflags", changes.head().deployment)
    old_version = mirror.head()[0]
    client.execute_command("CLIENT", "PAUSE", 1500, "ALL")  # Redis keeps its data but answers nobody
    services.set_percentage("f", 0, actor="oncall")
    assert featureflags.is_enabled("f", "anyone") is False
    assert wait_until(lambda: json.loads(client.hget(mirror.defs_key, "f"))["percentage"] == 0, timeout=10)
    assert mirror.head()[0] > old_version
