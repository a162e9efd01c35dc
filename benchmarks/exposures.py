"""Cost per ``variant()`` call of recording exposures, against recording off, in one run.

    python -m benchmarks.exposures [--quick]

Recording is a set lookup (and, for a unit's first exposure in this process, a set
add and a queue append); sending to Redis runs in the flusher thread, off this
path: its cost is printed separately, per exposure. Uses the Redis at
``REDIS_URL`` (default 127.0.0.1:6379) under a private key prefix, deleted at the
end; without Redis, exposures go to a no-op ``EXPOSURE_HOOK`` instead.
"""

from __future__ import annotations

import argparse
import os
import time
import timeit
import uuid

from benchmarks._django import setup

setup()

from django.test import override_settings  # noqa: E402

from benchmarks.engine import floor_check  # noqa: E402
from featureflags import variant  # noqa: E402
from featureflags.engine import Snapshot  # noqa: E402
from featureflags.experiments import exposures, flusher  # noqa: E402
from featureflags.store import runtime  # noqa: E402

BUDGET_US = 1.0
ROUNDS = 40
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def batch_us(func, number: int) -> float:
    """Microseconds per call over one batch of ``number`` calls."""
    return timeit.Timer(func).timeit(number=number) / number * 1e6


def noop_hook(batch) -> None:
    pass


def redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    args = parser.parse_args()
    number = 80_000 if args.quick else 400_000
    prefix = f"bench-exp-{uuid.uuid4().hex[:8]}"
    with_redis = redis_answers()
    backend = {"REDIS_URL": REDIS_URL} if with_redis else {"REDIS_URL": None, "EXPOSURE_HOOK": f"{__name__}.noop_hook"}
    overrides = {"KEY_PREFIX": prefix, "SYNC_THREAD": False, "USAGE_COUNTING": False, **backend}
    with override_settings(FEATUREFLAGS=overrides):
        definition = {"key": "checkout", "enabled": True, "variants": [{"name": "A"}, {"name": "B"}]}
        runtime.install(Snapshot.from_definitions([definition], version=1))
        fresh = iter([str(i) for i in range(2 * number)])  # every call a unit never seen before

        def same_unit() -> str | None:
            return variant("checkout", "12345")

        def new_unit() -> str | None:
            return variant("checkout", next(fresh))

        exposures.reset()
        assert exposures.ensure_configured(), "exposure recording did not switch on"
        best: dict[tuple[bool, str], float] = {}
        # Off and on alternate in many short batches, the best batch of each kept: bursts of load
        # from other processes on a shared machine then hit both sides alike.
        batch = number // ROUNDS
        for _ in range(ROUNDS):
            for recording in (False, True):
                exposures.active = recording
                for name, func in (("same", same_unit), ("new", new_unit)):
                    figure = batch_us(func, batch)
                    best[(recording, name)] = min(best.get((recording, name), figure), figure)
        off_same, on_same, off_new, on_new = (best[(r, n)] for n in ("same", "new") for r in (False, True))
        exposures.active = True
        queued = len(exposures.queue)

        started = time.perf_counter()
        sent, _ = flusher.flush()  # what the flusher thread does every EXPERIMENT_FLUSH_INTERVAL
        flush_s = time.perf_counter() - started
        counted = 0
        if with_redis:
            from featureflags.experiments.store import read_counts

            counted = read_counts(flusher.client(), prefix, "checkout").variants
            counted = sum(v.exposures for v in counted.values())
            client = flusher.client()
            keys = list(client.scan_iter(f"{prefix}:*", count=1000))
            if keys:
                client.delete(*keys)
        flusher.stop()
        base = min(batch_us(floor_check(), batch) for _ in range(ROUNDS))

    rows = [
        ("floor: dict + crc32", base, None),
        ("variant(), recording off, same unit", off_same, off_same),
        ("variant(), recording ON, same unit", on_same, off_same),
        ("variant(), recording off, a new unit per call", off_new, off_new),
        ("variant(), recording ON, a new unit per call", on_new, off_new),
    ]
    print(f"{'what':48} {'µs/call':>8} {'x floor':>8} {'x off':>6}")
    for name, value, off in rows:
        ratio = f"{value / off:6.2f}" if off else ""
        print(f"{name:48} {value:8.3f} {value / base:8.1f} {ratio:>6}")
    print(f"recording adds {on_same - off_same:+.3f} µs (same unit), {on_new - off_new:+.3f} µs (new unit) per call")
    worst = max(on_same, on_new)
    verdict = "within" if worst <= BUDGET_US else "OVER"
    print(f"variant() with recording on: up to {worst:.3f} µs, {verdict} the {BUDGET_US} µs budget on this machine")
    target = "Redis" if with_redis else "a no-op EXPOSURE_HOOK (Redis not answering)"
    per = flush_s / sent * 1e6 if sent else float("nan")
    print(f"background flush to {target}: {sent:,} exposures in {flush_s:.2f} s ({per:.2f} µs each, off the hot path)")
    if with_redis:
        print(f"unique units counted in Redis: {counted:,} (expected {queued:,})")


if __name__ == "__main__":
    main()
