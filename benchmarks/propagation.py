"""How long a change takes to reach other processes.

    python -m benchmarks.propagation [--workers 4] [--changes 200]

Needs Redis (``REDIS_URL``, default redis://127.0.0.1:6379/0) and the database of
``config.settings``. Each change is a ``services.set_percentage``; the clock
starts at its commit (publishing to Redis happens after commit, so it is
included) and stops when a worker process's snapshot shows the new value. ``time.monotonic`` is the
same clock in every process on Linux. Keys live under a private Redis prefix.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from benchmarks._django import ROOT


def worker_main(key: str) -> None:
    """Print ``<percentage> <monotonic time>`` each time this process sees a new value."""
    from benchmarks._django import setup

    setup()
    from django.conf import settings

    # Extra FEATUREFLAGS settings for the workers, as JSON (REDIS_CLUSTER, ...).
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, **json.loads(os.environ.get("FF_WORKER_SETTINGS") or "{}")}
    from featureflags.store import runtime

    last = None
    print("ready", flush=True)
    while True:
        flag = runtime.current().flags.get(key)
        value = None if flag is None else flag.percentage
        if value != last:
            print(f"{value} {time.monotonic()}", flush=True)
            last = value
        time.sleep(0.0002)


class Worker:
    """A worker process and a thread turning its output into a queue of lines."""

    def __init__(self, key: str, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.propagation", "--worker", key],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.strip())

    def read_line(self, timeout: float) -> str | None:
        try:
            return self.lines.get(timeout=max(timeout, 0))
        except queue.Empty:
            return None

    def wait_for(self, value: int, deadline: float) -> float | None:
        """The time the worker reported ``value``, skipping older reports."""
        while True:
            line = self.read_line(deadline - time.monotonic())
            if line is None:
                return None
            seen, _, at = line.partition(" ")
            if seen == str(value):
                return float(at)


def start_workers(count: int, key: str, env: dict[str, str]) -> list[Worker]:
    workers = [Worker(key, env) for _ in range(count)]
    for worker in workers:
        line = worker.read_line(timeout=60)
        if line != "ready":
            stop_workers(workers)
            raise RuntimeError(f"a worker did not start: {line!r}")
    return workers


def stop_workers(workers: list[Worker]) -> None:
    for worker in workers:
        worker.process.kill()
    for worker in workers:
        worker.process.wait(timeout=10)


def measure(key: str, workers: list[Worker], changes: int, timeout: float = 5.0) -> list[float]:
    """Seconds from each commit until each worker serves the new value (never seen: ``timeout``)."""
    from django.db import transaction

    from featureflags import services

    latencies = []
    for i in range(changes):
        value = 1 + (i % 98)
        with transaction.atomic():
            services.set_percentage(key, value, actor="benchmark")
            start = time.monotonic()  # the commit follows: publishing happens after it
        for worker in workers:
            seen = worker.wait_for(value, start + timeout)
            latencies.append(timeout if seen is None else seen - start)
    return latencies


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "max_ms": ordered[-1] * 1000,
    }


def worker_env(redis_url: str, prefix: str, staleness: float = 1.0) -> dict[str, str]:
    """The environment of a worker: the same Redis, prefix and database as this process."""
    env = dict(os.environ)
    env.update(REDIS_URL=redis_url, FEATUREFLAGS_KEY_PREFIX=prefix, FEATUREFLAGS_MAX_STALENESS=str(staleness))
    url = database_url()
    if url:
        env["DATABASE_URL"] = url
    return env


def database_url() -> str | None:
    """A URL of the database this process uses (a test database too), for child processes."""
    from django.db import connections

    settings = connections["default"].settings_dict
    if settings["ENGINE"].endswith("postgresql"):
        user = settings.get("USER") or "postgres"
        password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
        where = f"{settings.get('HOST') or '127.0.0.1'}:{settings.get('PORT') or 5432}"
        return f"postgres://{user}{password}@{where}/{settings['NAME']}"
    name = str(settings.get("NAME") or "")
    if settings["ENGINE"].endswith("sqlite3") and name and "memory" not in name:
        return f"sqlite:///{name}"
    # An in-memory test database cannot be shared: the workers get an empty one, and
    # follow the only deployment registered under the prefix in Redis.
    return f"sqlite:///{os.path.join(tempfile.gettempdir(), 'featureflags-no-database.sqlite3')}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--chaos", action="store_true", help="time each chaos scenario's convergence instead")
    parser.add_argument("--staleness", type=float, default=0.5, help="MAX_STALENESS of the chaos run (seconds)")
    args = parser.parse_args()
    if args.worker:
        worker_main(args.worker)
        return
    if args.chaos:
        chaos_table(args.staleness)
        return
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    prefix = f"ffbench:{uuid.uuid4().hex[:8]}"
    os.environ.update(REDIS_URL=redis_url, FEATUREFLAGS_KEY_PREFIX=prefix)
    from benchmarks._django import setup

    setup()
    import redis
    from django.core.management import call_command

    from featureflags import services
    from featureflags.models import Flag

    call_command("migrate", verbosity=0)
    key = f"bench_propagation_{uuid.uuid4().hex[:6]}"
    services.create_flag(key, enabled=True, percentage=0, actor="benchmark")
    workers = start_workers(args.workers, key, worker_env(redis_url, prefix))
    try:
        latencies = measure(key, workers, args.changes)
    finally:
        stop_workers(workers)
        Flag.objects.filter(key=key).delete()
        client = redis.Redis.from_url(redis_url)
        stale = list(client.scan_iter(f"{prefix}:*"))
        if stale:
            client.delete(*stale)
    figures = summary(latencies)
    print(f"propagation of {args.changes} changes to {args.workers} worker processes (Redis pub/sub)")
    print(f"  samples {len(latencies)}")
    for name, value in figures.items():
        print(f"  {name:7} {value:8.2f}")
    print(f"  target p99 <= 50 ms: {'met' if figures['p99_ms'] <= 50 else 'NOT met'}")


def chaos_table(staleness: float) -> None:
    """Each scenario of benchmarks/chaos.py against 3 observer processes and a private Redis."""
    from benchmarks import chaos
    from benchmarks._django import setup

    setup()
    from django.conf import settings
    from django.core.management import call_command

    harness = chaos.Chaos(staleness=staleness)
    harness.redis.start()
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, **harness.overrides(), "REDIS_URL": harness.redis.url}
    call_command("migrate", verbosity=0)
    chaos.prepare()
    rows = []
    try:
        harness.start_observers(3)
        for name, scenario in chaos.SCENARIOS:
            try:
                rows.append((name, f"{scenario(harness, 30.0) * 1000:8.0f}"))
            except AssertionError as exc:
                rows.append((name, f"FAILED: {exc}"[:60]))
    finally:
        harness.close()
    bound = 2 * staleness * 1000
    print(f"convergence after each chaos scenario: 3 observer processes, MAX_STALENESS {staleness * 1000:.0f} ms")
    print(
        f"  (ms from the last acknowledged write or fault until every observer serves the database; bound {bound:.0f})"
    )
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:{width}}  {value}")


if __name__ == "__main__":
    main()
