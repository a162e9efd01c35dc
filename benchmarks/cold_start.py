"""A process's first load of the flags: 1,000 / 10,000 / 50,000 flags, from the database
and from Redis, each in a fresh process.

    python -m benchmarks.cold_start [--sizes 1000,10000,50000]

Uses the database of ``config.settings`` (``DATABASE_URL``) and a private
redis-server. The flags (``cold_<n>``, a tenth with a 20-id list) are created with
bulk inserts and removed afterwards. Each measurement starts a new Python process,
sets Django up, then times ``runtime.current()`` (the first check's load) and the
resident memory it added. Targets: 10,000 flags <= 300 ms from either store,
50,000 <= 1.5 s; the last column is the time per flag relative to 1,000 flags
(1.0 = linear).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from benchmarks._django import ROOT
from benchmarks._servers import RedisServer

PREFIX = "coldstart"


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure() -> None:
    """In the fresh process: one cold load, printed as JSON."""
    from benchmarks._django import setup

    setup()
    from django.conf import settings

    settings.FEATUREFLAGS = {
        **settings.FEATUREFLAGS,
        "KEY_PREFIX": PREFIX,
        "SYNC_THREAD": False,
        "SNAPSHOT_FILE": False,
        "REDIS_URL": os.environ.get("COLD_REDIS_URL") or None,
    }
    from featureflags.store import runtime

    before = rss_bytes()
    started = time.perf_counter()
    snapshot = runtime.current()
    seconds = time.perf_counter() - started
    status = runtime.status()
    added = rss_bytes() - before
    print(json.dumps({"seconds": seconds, "flags": len(snapshot), "source": status["source"], "rss": added}))


def populate(count: int) -> None:
    from django.db import transaction

    from featureflags.models import Flag, FlagUser
    from featureflags.store import changes

    Flag.objects.filter(key__startswith="cold_").delete()
    with transaction.atomic():
        head = changes.record(["cold_*"])
        flags = [
            Flag(key=f"cold_{i}", enabled=i % 2 == 0, percentage=i % 101, mirror_version=head.version)
            for i in range(count)
        ]
        Flag.objects.bulk_create(flags, batch_size=5000)
        ids = dict(Flag.objects.filter(key__startswith="cold_").values_list("key", "pk"))
        users = [
            FlagUser(flag_id=ids[f"cold_{i}"], user_id=f"u{j}", excluded=False)
            for i in range(0, count, 10)
            for j in range(20)
        ]
        FlagUser.objects.bulk_create(users, batch_size=5000)


def publish_to_redis(redis_url: str) -> None:
    from django.conf import settings

    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "KEY_PREFIX": PREFIX, "REDIS_URL": redis_url}
    from featureflags.store import runtime

    runtime.reset()
    runtime.publish_everything()
    runtime.reset()


def fresh_process(redis_url: str | None) -> dict:
    env = dict(os.environ, COLD_REDIS_URL=redis_url or "")
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.cold_start", "--measure"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure()
        return
    from benchmarks._django import setup

    setup()
    from django.core.management import call_command

    from featureflags.models import Flag

    call_command("migrate", verbosity=0)
    sizes = [int(s) for s in args.sizes.split(",")]
    redis = RedisServer().start()
    rows = []
    try:
        for size in sizes:
            populate(size)
            publish_to_redis(redis.url)
            for store, url in (("database", None), ("redis", redis.url)):
                result = fresh_process(url)
                rows.append((size, store, result))
    finally:
        redis.cleanup()
        Flag.objects.filter(key__startswith="cold_").delete()
    per_flag = {store: r["seconds"] / r["flags"] for size, store, r in rows if size == sizes[0]}
    print("cold start: the first runtime.current() of a fresh process (a tenth of the flags with a 20-id list)")
    print(f"  {'flags':>7} {'from':9} {'ms':>8} {'source':9} {'+RSS MB':>8} {'per flag vs first':>18}")
    for _size, store, result in rows:
        ratio = (result["seconds"] / result["flags"]) / per_flag[store]
        print(
            f"  {result['flags']:>7} {store:9} {result['seconds'] * 1000:8.1f} {result['source']:9} "
            f"{result['rss'] / 1e6:8.1f} {ratio:18.2f}"
        )
    print("  targets: 10,000 flags <= 300 ms from either store; 50,000 <= 1,500 ms")


if __name__ == "__main__":
    main()
