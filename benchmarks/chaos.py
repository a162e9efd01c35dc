"""Chaos scenarios for propagation: real observer processes, a private redis-server, the
configured database. Shared by ``tests/faults/test_chaos.py`` (which asserts the bound)
and ``python -m benchmarks.propagation --chaos`` (which prints the table).

Each scenario returns the seconds from the last acknowledged write (or the last fault)
until every observer serves exactly what the database holds.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks._django import ROOT
from benchmarks._servers import RedisServer, free_port

PREFIX = "chaos"
FLAGS = [f"chaos_{i}" for i in range(4)]


# -- the observer process -----------------------------------------------------------------


def observe() -> None:
    """In an observer: print ``{"t", "flags", "source"}`` each time the flags it serves change."""
    from benchmarks._django import setup

    setup()
    from django.conf import settings

    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, **json.loads(os.environ["FF_CHAOS_SETTINGS"])}
    from featureflags.store import runtime

    last = None
    while True:
        snapshot = runtime.current()
        flags = {k: [f.enabled, f.percentage] for k, f in snapshot.flags.items() if k.startswith("chaos")}
        if flags != last:
            print(json.dumps({"t": time.monotonic(), "flags": flags, "source": runtime.status()["source"]}), flush=True)
            last = flags
        time.sleep(0.002)


def write_and_die(key: str, enabled: str) -> None:
    """In a writer: commit a change, then SIGKILL itself before anything is published."""
    from benchmarks._django import setup

    setup()
    from django.conf import settings
    from django.db import transaction

    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, **json.loads(os.environ["FF_CHAOS_SETTINGS"])}
    from featureflags import services

    with transaction.atomic():
        # Runs first after the commit (callbacks run in order): the publish never happens.
        transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
        services.set_enabled(key, enabled == "true", actor="chaos")


class Observer:
    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.chaos", "--observe"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.latest: dict[str, Any] | None = None
        self.source: str | None = None
        self.lines: queue.Queue[dict] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                report = json.loads(line)
            except ValueError:
                continue
            self.latest = report["flags"]
            self.source = report["source"]
            self.lines.put(report)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.latest is None:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("an observer did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


# -- the harness ---------------------------------------------------------------------------------


@dataclass
class Chaos:
    """The observers, the private Redis and the settings every process shares."""

    staleness: float
    redis: RedisServer = field(default_factory=RedisServer)
    observers: list[Observer] = field(default_factory=list)
    snapshot_file: str = field(default_factory=lambda: tempfile.mktemp(prefix="ff-chaos-", suffix=".json"))

    def overrides(self, **extra: Any) -> dict[str, Any]:
        return {
            "KEY_PREFIX": PREFIX,
            "MAX_STALENESS": self.staleness,
            "REDIS_TIMEOUT": 0.2,
            "SYNC_THREAD": True,
            "SNAPSHOT_FILE": self.snapshot_file,
            **extra,
        }

    def env(self, redis_url: str | None = None, database_url: str | None = None, **extra: Any) -> dict[str, str]:
        from benchmarks.propagation import database_url as this_database

        env = dict(os.environ)
        env["REDIS_URL"] = redis_url or self.redis.url
        env["DATABASE_URL"] = database_url or this_database() or ""
        env["FF_CHAOS_SETTINGS"] = json.dumps(self.overrides(**extra))
        env["FEATUREFLAGS_LOG_LEVEL"] = "CRITICAL"
        env["CONN_MAX_AGE"] = "60"
        return env

    def start_observers(self, count: int = 3, **env: Any) -> list[Observer]:
        started = [Observer(self.env(**env)) for _ in range(count)]
        for observer in started:
            observer.wait_ready()
        self.observers.extend(started)
        return started

    def stop_observers(self) -> None:
        for observer in self.observers:
            observer.stop()
        self.observers.clear()

    def close(self) -> None:
        self.stop_observers()
        self.redis.cleanup()
        if os.path.exists(self.snapshot_file):
            os.unlink(self.snapshot_file)


def truth() -> dict[str, list]:
    from featureflags.models import Flag

    return {
        key: [enabled, pct]
        for key, enabled, pct in Flag.objects.filter(key__startswith="chaos").values_list(
            "key", "enabled", "percentage"
        )
    }


def converge(chaos: Chaos, timeout: float, since: float | None = None) -> float:
    """Seconds from ``since`` (now by default) until every observer serves the database's flags."""
    start = time.monotonic() if since is None else since
    while True:
        expected = truth()
        if all(observer.latest == expected for observer in chaos.observers):
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            seen = [observer.latest for observer in chaos.observers]
            raise AssertionError(f"not converged after {timeout:.1f} s: database {expected}, observers {seen}")
        time.sleep(0.005)


def mirror(chaos: Chaos, db: int = 0, deployment: str | None = None):
    import redis

    from featureflags.store import changes
    from featureflags.store.redis_mirror import RedisMirror

    client = redis.Redis(port=chaos.redis.port, db=db)
    return RedisMirror(client, PREFIX, deployment or changes.head().deployment)


def set_all(enabled: bool) -> None:
    from featureflags import services

    for key in FLAGS:
        services.set_enabled(key, enabled, actor="chaos")


# -- the scenarios -----------------------------------------------------------------------------------


def baseline_kill(chaos: Chaos, bound: float) -> float:
    from featureflags import services

    services.set_enabled(FLAGS[0], True, actor="chaos")
    converge(chaos, bound)
    services.kill(FLAGS[0], actor="chaos")
    return converge(chaos, bound)


def simultaneous(chaos: Chaos, bound: float, trials: int = 20) -> float:
    """4 flags switched at the same instant from 4 threads (4 connections), ``trials`` times."""
    from django.db import connections

    from featureflags import services

    worst = 0.0
    for trial in range(trials):
        value = trial % 2 == 0
        barrier = threading.Barrier(len(FLAGS))
        errors: list[BaseException] = []

        def switch(key: str, value: bool = value, barrier: threading.Barrier = barrier, errors: list = errors) -> None:
            try:
                barrier.wait()
                services.set_enabled(key, value, actor="chaos")
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=switch, args=(key,)) for key in FLAGS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        assert all(state[0] is value for state in truth().values()), "an acknowledged write is not in the database"
        worst = max(worst, converge(chaos, bound))
    return worst


def foreign_deployment(chaos: Chaos, bound: float) -> float:
    """Another deployment (db 1 of the same server, same prefix) makes 50 changes."""
    from featureflags import services

    stranger = mirror(chaos, db=1, deployment="f0reign0deploym3nt")
    payloads = {key: json.dumps({"key": key, "enabled": False, "percentage": 0}) for key in FLAGS}
    stranger.publish(0, 1, "x", payloads, full=True)
    for version in range(1, 50):
        stranger.publish(version, version + 1, f"x{version}", payloads)
    services.set_percentage(FLAGS[1], 42, actor="chaos")  # this deployment's change after theirs
    return converge(chaos, bound)


def restored_database(chaos: Chaos, bound: float, changes_after_dump: int = 30) -> float:
    """The database restored from a logical dump (every featureflags table) taken 30 changes earlier."""
    from django.core import serializers
    from django.db import transaction

    from featureflags import services
    from featureflags.models import ChangeLog, Flag, MirrorState

    def tables() -> list:
        return [*MirrorState.objects.all(), *ChangeLog.objects.all(), *Flag.objects.filter(key__startswith="chaos")]

    dump = serializers.serialize("json", tables())
    for i in range(changes_after_dump):
        services.set_percentage(FLAGS[i % len(FLAGS)], 50 + i, actor="chaos")
    converge(chaos, bound)
    with transaction.atomic():
        ChangeLog.objects.all().delete()
        MirrorState.objects.all().delete()
        Flag.objects.filter(key__startswith="chaos").delete()
        for restored in serializers.deserialize("json", dump):
            restored.save()
    restored_at = time.monotonic()
    seconds = converge(chaos, bound, since=restored_at)
    services.kill(FLAGS[2], actor="chaos")  # and the restored database's own next change arrives
    return max(seconds, converge(chaos, bound))


def writer_without_redis(chaos: Chaos, bound: float) -> float:
    env = chaos.env()
    env.pop("REDIS_URL")
    env.pop("FF_CHAOS_SETTINGS")
    subprocess.run(
        [sys.executable, "manage.py", "flags", "--actor", "chaos", "enable", FLAGS[3]],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return converge(chaos, bound)


def flushall(chaos: Chaos, bound: float) -> float:
    from featureflags import services

    mirror(chaos).client.flushall()
    services.set_percentage(FLAGS[0], 7, actor="chaos")
    return converge(chaos, bound)


def restarted_empty(chaos: Chaos, bound: float) -> float:
    from featureflags import services

    chaos.redis.stop()
    chaos.redis.start()
    services.set_percentage(FLAGS[0], 8, actor="chaos")
    return converge(chaos, bound)


def restarted_from_older_dump(chaos: Chaos, bound: float) -> float:
    from featureflags import services

    mirror(chaos).client.save()  # dump.rdb in the server's directory
    for i in range(5):
        services.set_percentage(FLAGS[1], 60 + i, actor="chaos")
    converge(chaos, bound)
    chaos.redis.stop()
    chaos.redis.start()  # loads the older dump
    restarted = time.monotonic()
    services.set_percentage(FLAGS[1], 70, actor="chaos")
    seconds = converge(chaos, bound, since=restarted)
    from featureflags.store import changes

    head = changes.head()
    while mirror(chaos).head() != (head.version, head.token):  # Redis is repaired too
        if time.monotonic() - restarted > bound * 2:
            raise AssertionError("Redis was not brought back to the database's head")
        time.sleep(0.01)
    return seconds


def pubsub_killed(chaos: Chaos, bound: float) -> float:
    """``CLIENT KILL TYPE pubsub`` every 20 ms while 5 changes are made."""
    from featureflags import services

    stop = threading.Event()
    client = mirror(chaos).client

    def killer() -> None:
        while not stop.is_set():
            try:
                client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
            except Exception:
                pass
            stop.wait(0.02)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        for i in range(5):
            services.set_percentage(FLAGS[2], 80 + i, actor="chaos")
        return converge(chaos, bound)
    finally:
        stop.set()
        thread.join()


def writer_killed_after_commit(chaos: Chaos, bound: float) -> float:
    env = chaos.env()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.chaos", "--write-and-die", FLAGS[0], "true"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert truth()[FLAGS[0]][0] is True, "the killed writer's commit is not in the database"
    return converge(chaos, bound)


def partition_while_replaced(chaos: Chaos, bound: float) -> float:
    """Redis unreachable; a write is accepted; every observer is replaced; then Redis returns."""
    from featureflags import services

    chaos.redis.stop()
    services.set_enabled(FLAGS[1], False, actor="chaos")
    chaos.stop_observers()
    chaos.start_observers(3)
    converge(chaos, bound)
    chaos.redis.start()  # empty: the reconcilers re-seed it
    returned = time.monotonic()
    services.set_percentage(FLAGS[1], 90, actor="chaos")
    return converge(chaos, bound, since=returned)


def both_down_at_start(chaos: Chaos, bound: float) -> float:
    """A process that reaches neither Redis nor the database starts from the last-known-good file."""
    from featureflags import services

    services.set_percentage(FLAGS[3], 33, actor="chaos")
    converge(chaos, bound)
    expected = truth()
    deadline = time.monotonic() + bound * 2
    while not _file_holds(chaos.snapshot_file, expected):
        if time.monotonic() > deadline:
            raise AssertionError("no observer wrote the last-known-good file")
        time.sleep(0.01)
    dead = f"127.0.0.1:{free_port()}"
    orphan = Observer(chaos.env(redis_url=f"redis://{dead}/0", database_url=f"postgres://postgres@{dead}/none"))
    try:
        started = time.monotonic()
        orphan.wait_ready()
        assert orphan.source == "file", orphan.source
        assert orphan.latest == expected, (orphan.latest, expected)
        return time.monotonic() - started
    finally:
        orphan.stop()


def _file_holds(path: str, expected: dict[str, list]) -> bool:
    try:
        with open(path) as handle:
            flags = json.load(handle)["flags"]
    except (OSError, ValueError, KeyError):
        return False
    found = {}
    for key, payload in flags.items():
        if key.startswith("chaos"):
            definition = json.loads(payload)
            found[key] = [definition.get("enabled") is True, definition.get("percentage")]
    return found == expected


SCENARIOS: list[tuple[str, Callable[[Chaos, float], float]]] = [
    ("baseline kill", baseline_kill),
    ("4 flags at the same instant, 20 trials (worst)", simultaneous),
    ("foreign deployment, other db, same prefix, 50 changes", foreign_deployment),
    ("database restored from a dump 30 changes old", restored_database),
    ("writer without REDIS_URL (manage.py flags enable; from its exit)", writer_without_redis),
    ("FLUSHALL", flushall),
    ("Redis restarted empty", restarted_empty),
    ("Redis restarted from an older dump", restarted_from_older_dump),
    ("CLIENT KILL TYPE pubsub every 20 ms, 5 changes", pubsub_killed),
    ("writer SIGKILLed right after its commit", writer_killed_after_commit),
    ("Redis partition while the observers are replaced", partition_while_replaced),
    ("Redis and the database down at start: a new process serves the file (incl. start-up)", both_down_at_start),
]


def prepare() -> None:
    """The chaos flags, created once (off, 100 %)."""
    from featureflags import services
    from featureflags.models import Flag

    for key in FLAGS:
        if not Flag.objects.filter(key=key).exists():
            services.create_flag(key, enabled=False, actor="chaos")


if __name__ == "__main__":
    if sys.argv[1] == "--observe":
        observe()
    elif sys.argv[1] == "--write-and-die":
        write_and_die(sys.argv[2], sys.argv[3])
