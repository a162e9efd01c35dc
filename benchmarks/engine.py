"""Cost of a flag check, of a million-id list and of loading 10,000 flags.

    python -m benchmarks.engine [--quick]

Every figure is printed with its ratio to a floor measured in the same run: a
dict lookup plus ``zlib.crc32(id) % 100`` called through a Python function, the
least any in-process percentage check can cost.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
import timeit
import tracemalloc
import zlib

from benchmarks._django import setup

setup()

from featureflags import is_enabled  # noqa: E402
from featureflags.engine import Context, Snapshot  # noqa: E402
from featureflags.engine.idset import build_id_set, id_set_from_bytes  # noqa: E402
from featureflags.store import runtime  # noqa: E402
from featureflags.store.codec import compile_all, from_json  # noqa: E402

MILLION = 1_000_000


def per_call_us(func, number: int) -> float:
    """Best of five runs, in microseconds per call."""
    timer = timeit.Timer(func)
    return min(timer.repeat(repeat=5, number=number)) / number * 1e6


def floor_check():
    flags = {"pct": 50}
    uid = b"12345"

    def floor() -> bool:
        percentage = flags.get("pct")
        return percentage is not None and zlib.crc32(uid) % 100 < percentage

    return floor


def big_flag_definitions(ids: list[str]) -> list[dict]:
    return [
        {
            "key": "big",
            "enabled": True,
            "percentage": 50,
            "users": build_id_set(ids),
            "rules": ["^admin-", "@example\\.com$", "^qa[0-9]+$"],
            "constraints": [
                {"attribute": "region", "operator": "IN", "values": ["US", "RO", "DE"]},
                {"attribute": "app_version", "operator": "SEMVER_GTE", "values": ["2.0.0"]},
            ],
        },
        {"key": "pct", "enabled": True, "percentage": 50},
        {"key": "list", "enabled": True, "percentage": 0, "users": build_id_set(ids)},  # the same 1M ids alone
    ]


def measure_memory(build) -> tuple[object, float]:
    gc.collect()
    tracemalloc.start()
    value = build()
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return value, current / 2**20


def ten_thousand_flags() -> str:
    rng = random.Random(7)
    definitions = {}
    for i in range(10_000):
        definition = {"key": f"flag_{i}", "enabled": rng.random() < 0.8, "percentage": rng.randrange(101)}
        if i % 3 == 0:
            definition["rules"] = [f"^{i}[0-9]+$"]
        if i % 4 == 0:
            definition["constraints"] = [{"attribute": "region", "operator": "IN", "values": ["US", "DE"]}]
        if i % 5 == 0:
            definition["variants"] = [{"name": "a", "weight": 50}, {"name": "b", "weight": 50}]
        if i % 7 == 0:
            definition["users"] = [str(rng.randrange(10**9)) for _ in range(20)]
        definitions[definition["key"]] = json.dumps(definition)
    return json.dumps(definitions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    args = parser.parse_args()
    number = 50_000 if args.quick else 300_000

    print(f"Python {sys.version.split()[0]}; best of 5 x {number:,} calls\n")
    ids = [str(10**11 + 7 * i) for i in range(MILLION)]
    snapshot = Snapshot.from_definitions(big_flag_definitions(ids), version=1)
    runtime.install(snapshot)

    floor = per_call_us(floor_check(), number)
    context = Context("12345", {"region": "US", "app_version": "2.1.0"})
    attributes = {"region": "US", "app_version": "2.1.0"}
    fresh_ids = iter(range(10**12, 10**13))
    fresh_strings = map(str, range(2 * 10**12, 3 * 10**12))  # str() of each is inside the timing

    def fresh_context() -> Context:
        # Includes building a Context (~0.3 us): the figure a never-seen visitor costs.
        return Context(str(next(fresh_ids)), attributes)

    rows = [
        ("floor: dict lookup + crc32 % 100", floor),
        ("percentage flag, is_enabled(key, id)", per_call_us(lambda: is_enabled("pct", "12345"), number)),
        ("percentage flag, is_enabled(key, Context)", per_call_us(lambda: is_enabled("pct", context), number)),
        ("percentage flag, Snapshot.is_enabled", per_call_us(lambda: snapshot.is_enabled("pct", context), number)),
        (
            "1M users + 3 rules + 2 constraints, not listed",
            per_call_us(lambda: is_enabled("big", context), number),
        ),
        (
            "1M users + 3 rules + 2 constraints, a new id each call",
            per_call_us(lambda: is_enabled("big", fresh_context()), number),
        ),
        (
            "1M users + 3 rules + 2 constraints, listed",
            per_call_us(lambda: is_enabled("big", ids[777_777]), number),
        ),
        (
            "1M users alone, is_enabled(key, id), a new id each call",
            per_call_us(lambda: is_enabled("list", next(fresh_strings)), number),
        ),
        ("unknown flag", per_call_us(lambda: is_enabled("missing", "12345"), number)),
    ]
    print(f"{'check':58} {'us/check':>9} {'x floor':>8}")
    for name, us in rows:
        print(f"{name:58} {us:9.3f} {us / floor:8.1f}")

    serialised = build_id_set(ids)
    data = serialised.to_bytes()
    _, compact_mib = measure_memory(lambda: id_set_from_bytes(data))
    _, set_mib = measure_memory(lambda: {str(10**11 + 7 * i) for i in range(MILLION)})
    print(
        f"\n1,000,000-id list per worker: compact {compact_mib:.1f} MiB; Python set of str {set_mib:.1f} MiB "
        f"({set_mib / compact_mib:.1f}x more)"
    )
    start = time.perf_counter()
    id_set_from_bytes(data)
    print(f"  loading it from its Redis form: {(time.perf_counter() - start) * 1000:.1f} ms")

    payload = ten_thousand_flags()
    def load():
        definitions = {key: from_json(raw) for key, raw in json.loads(payload).items()}
        return Snapshot(compile_all(definitions), version=1)

    loaded, load_mib = measure_memory(load)
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        loaded = load()
        timings.append(time.perf_counter() - start)
    print(
        f"\n10,000 flags from their Redis form (one JSON per flag, as HGETALL returns them): "
        f"best {min(timings) * 1000:.0f} ms, worst {max(timings) * 1000:.0f} ms of 3; "
        f"{load_mib:.1f} MiB ({len(loaded)} flags)"
    )


if __name__ == "__main__":
    main()
