"""Cost of a flag check (version 2), of a million-id list, of loading 10,000 flags x 3 environments,
and of prerequisites.

    python -m benchmarks.engine [--quick]

Every figure is printed with its ratio to a floor measured in the same run: a
dict lookup plus ``zlib.crc32(id) % 100`` called through a Python function, the
least any in-process percentage check can cost. Every case's answer is probed
against the general evaluator (or a known value) before it is timed: a benchmark
of a wrong answer stops the run.
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
from collections.abc import Callable
from itertools import count

from benchmarks._django import setup

setup()

from featureflags import is_enabled  # noqa: E402
from featureflags.engine import CompiledFlag, Context, Reason, Snapshot  # noqa: E402
from featureflags.engine.idset import build_id_set, id_set_from_bytes  # noqa: E402
from featureflags.store import runtime  # noqa: E402
from featureflags.store.codec import compile_all, from_json  # noqa: E402

MILLION = 1_000_000
ENVIRONMENTS = ("production", "staging", "development")


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


def probe(name: str, got: object, expected: object) -> None:
    """Stop the run when a case does not give the answer it is meant to time."""
    if got != expected:
        sys.exit(f"benchmarks.engine: {name!r} answers {got!r}, expected {expected!r}")


def v2(key: str, rules: list[dict], **fields) -> dict:
    targeting = {"enabled": True, "rules": rules, **fields.pop("targeting", {})}
    return {"schema": 2, "key": key, "environments": {"production": targeting}, **fields}


def constraint(attribute: str, operator: str, *values: str, **flags) -> dict:
    return {"attribute": attribute, "operator": operator, "values": list(values), **flags}


TEN_CONSTRAINTS = [
    constraint("region", "IN", "US", "DE"),
    constraint("plan", "NOT_IN", "free"),
    constraint("app_version", "SEMVER_GTE", "2.0.0"),
    constraint("age", "NUM_GT", "18"),
    constraint("email", "STR_ENDS_WITH", "@example.com"),
    constraint("country", "IN", "US"),
    constraint("beta", "IN", "true"),
    constraint("signup", "DATE_AFTER", "2020-01-01T00:00:00Z"),
    constraint("language", "STR_STARTS_WITH", "en"),
    constraint("tier", "IN", "gold", inverted=True),
]
TEN_ATTRIBUTES = {
    "region": "US",
    "plan": "pro",
    "app_version": "2.1.0",
    "age": "30",
    "email": "a@example.com",
    "country": "US",
    "beta": "true",
    "signup": "2021-05-01T00:00:00Z",
    "language": "en-GB",
    "tier": "silver",
}


def definitions(ids_set) -> tuple[list[dict], list[dict]]:
    """The flags and segments of the timed cases."""
    ten_rules = [
        {"id": "admins", "constraints": [constraint("user_id", "REGEX", "^admin-")]},
        {"id": "staff", "segments": ["staff"]},
        {"id": "customers", "segments": ["customers"], "percentage": 50},
        {"id": "us-beta", "constraints": [constraint("region", "IN", "US", "RO"), constraint("beta", "IN", "true")]},
        {"id": "new-app", "constraints": [constraint("app_version", "SEMVER_GTE", "9.0.0")], "percentage": 20},
    ] + [{"id": f"r{i}", "constraints": [constraint("plan", "IN", f"plan-{i}")], "percentage": 12.5} for i in range(5)]
    segments = [
        {"key": "customers", "included": ids_set},
        {
            "key": "staff",
            "included": ["s1", "s2"],
            "constraints": [constraint("email", "STR_ENDS_WITH", "@corp.example")],
        },
    ]
    flags = [
        v2("pct", [{"id": "half", "percentage": 30.5}]),
        v2("ten_rules", ten_rules),
        v2("ten_constraints", [{"id": "all", "constraints": TEN_CONSTRAINTS}]),
        v2(
            "regexes",
            [
                {"id": f"re{i}", "constraints": [constraint("user_id", "REGEX", p)]}
                for i, p in enumerate(["^admin-", "@example\\.com$", "^qa[0-9]+$"])
            ]
            + [{"id": "rest", "percentage": 0}],
        ),
        v2("list", [{"id": "none", "percentage": 0}], targeting={"users": ids_set}),
        {"key": "v1_pct", "enabled": True, "percentage": 50},
    ]
    return flags, segments


def layered_prerequisites(layers: int = 6, width: int = 10) -> list[dict]:
    flags = [v2(f"l0_{i}", []) for i in range(width)]
    for layer in range(1, layers + 1):
        flags += [
            v2(f"l{layer}_{i}", [], prerequisites=[{"flag": f"l{layer - 1}_{j}"} for j in range(width)])
            for i in range(width)
        ]
    return flags


def ten_thousand_flags() -> str:
    """10,000 version-2 flags with a targeting in each of 3 environments, as the store keeps them."""
    rng = random.Random(7)
    payload = {}
    for i in range(10_000):
        environments = {}
        for name in ENVIRONMENTS:
            rules = []
            if i % 3 == 0:
                rules.append({"id": "ids", "constraints": [constraint("user_id", "REGEX", f"^{i}[0-9]+$")]})
            rule = {"id": "main", "percentage": rng.randrange(101)}
            if i % 4 == 0:
                rule["constraints"] = [constraint("region", "IN", "US", "DE")]
            rules.append(rule)
            targeting = {"enabled": rng.random() < 0.8, "rules": rules}
            if i % 7 == 0:
                targeting["users"] = [str(rng.randrange(10**9)) for _ in range(20)]
            environments[name] = targeting
        definition = {"schema": 2, "key": f"flag_{i}", "environments": environments}
        if i % 5 == 0:
            definition["variants"] = [{"name": "a", "weight": 50}, {"name": "b", "weight": 50}]
        payload[definition["key"]] = json.dumps(definition)
    return json.dumps(payload)


def measure_memory(build: Callable[[], object]) -> tuple[object, float]:
    gc.collect()
    tracemalloc.start()
    value = build()
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return value, current / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    args = parser.parse_args()
    number = 50_000 if args.quick else 300_000

    print(f"Python {sys.version.split()[0]}; best of 5 x {number:,} calls\n")
    ids = [str(10**11 + 7 * i) for i in range(MILLION)]
    ids_set = build_id_set(ids)
    flags, segments = definitions(ids_set)
    snapshot = Snapshot.from_definitions(flags, version=1, environment="production", segments=segments)
    runtime.install(snapshot)

    def general(key: str, context: Context) -> bool:
        return snapshot.evaluate(key, context).enabled

    floor = per_call_us(floor_check(), number)
    counter = count(10**12)
    fresh_ids = map(str, counter)  # str() of each is inside the timing
    known = Context("12345")
    probe("pct by id", is_enabled("pct", "12345"), general("pct", known))
    probe("pct decided by its rule", snapshot.evaluate("pct", known).reason in (Reason.RULE, Reason.NO_MATCH), True)
    probe("v1 pct by id", is_enabled("v1_pct", "12345"), general("v1_pct", known))

    never_seen = {"region": "RO", "beta": "true", "app_version": "2.1.0", "plan": "plan-3", "email": "x@y.example"}
    for i in range(200):  # never-seen ids on the 10-rule flag agree with the general evaluator's reading
        who = Context(str(10**13 + i), never_seen)
        probe("ten rules", snapshot.is_enabled("ten_rules", who), general("ten_rules", who))
        probe(
            "ten rules by id", is_enabled("ten_rules", str(10**13 + i)), general("ten_rules", Context(str(10**13 + i)))
        )
    probe("ten rules, listed", snapshot.evaluate("ten_rules", Context(ids[777_777])).rule in ("customers", None), True)
    probe("ten rules, RO beta", snapshot.evaluate("ten_rules", Context("nobody", never_seen)).rule, "us-beta")
    ten = Context("12345", TEN_ATTRIBUTES)
    probe("ten constraints hold", snapshot.evaluate("ten_constraints", ten).rule, "all")
    probe("regex match", is_enabled("regexes", "admin-7"), True)
    probe("regex miss", is_enabled("regexes", "12345"), False)
    probe("list listed", is_enabled("list", ids[777_777]), True)
    probe("list not listed", is_enabled("list", "12345"), False)
    probe("unknown", is_enabled("missing", "12345"), False)

    ten_rules_context = Context("12345", never_seen)
    rows = [
        ("floor: dict lookup + crc32 % 100", floor),
        ("one-rule percentage flag, is_enabled(key, id)", per_call_us(lambda: is_enabled("pct", "12345"), number)),
        ("one-rule percentage flag, is_enabled(key, Context)", per_call_us(lambda: is_enabled("pct", known), number)),
        (
            "one-rule percentage flag, Snapshot.is_enabled",
            per_call_us(lambda: snapshot.is_enabled("pct", known), number),
        ),
        ("version-1 percentage flag, is_enabled(key, id)", per_call_us(lambda: is_enabled("v1_pct", "12345"), number)),
        (
            "10 rules, 2 segments (1M ids), 3 constraints, a new id",
            per_call_us(lambda: snapshot.is_enabled("ten_rules", Context(next(fresh_ids), never_seen)), number),
        ),
        (
            "  the same, one id (context built once)",
            per_call_us(lambda: snapshot.is_enabled("ten_rules", ten_rules_context), number),
        ),
        (
            "  the same, is_enabled(key, id), a new id",
            per_call_us(lambda: is_enabled("ten_rules", next(fresh_ids)), number),
        ),
        ("10 constraints, all hold", per_call_us(lambda: snapshot.is_enabled("ten_constraints", ten), number)),
        ("3 regex rules, is_enabled(key, id), one id", per_call_us(lambda: is_enabled("regexes", "12345"), number)),
        (
            "3 regex rules, is_enabled(key, id), a new id",
            per_call_us(lambda: is_enabled("regexes", next(fresh_ids)), number),
        ),
        (
            "1M users alone, is_enabled(key, id), a new id",
            per_call_us(lambda: is_enabled("list", next(fresh_ids)), number),
        ),
        ("unknown flag", per_call_us(lambda: is_enabled("missing", "12345"), number)),
    ]
    print(f"{'check':58} {'us/check':>9} {'x floor':>8}")
    for name, us in rows:
        print(f"{name:58} {us:9.3f} {us / floor:8.1f}")

    layered = Snapshot.from_definitions(layered_prerequisites(), environment="production")
    top = Context("12345")
    probe("6 layers x 10 prerequisites", layered.evaluate("l6_0", top).reason, Reason.DEFAULT)
    layers_us = per_call_us(lambda: layered.is_enabled("l6_0", top), max(number // 100, 500))
    print(f"\n6 layers x 10 prerequisites (60 flags, each decided once): {layers_us:.1f} us per check")

    data = ids_set.to_bytes()  # type: ignore[attr-defined]
    _, compact_mib = measure_memory(lambda: id_set_from_bytes(data))
    _, set_mib = measure_memory(lambda: {str(10**11 + 7 * i) for i in range(MILLION)})
    print(
        f"\n1,000,000-id list per worker: compact {compact_mib:.1f} MiB; Python set of str {set_mib:.1f} MiB "
        f"({set_mib / compact_mib:.1f}x more)"
    )
    start = time.perf_counter()
    id_set_from_bytes(data)
    print(f"  loading it from its Redis form: {(time.perf_counter() - start) * 1000:.1f} ms")

    # The million ids as Python strings are this benchmark's scaffolding, not a worker's: let them go,
    # or every collection during the load below walks them.
    del ids
    gc.collect()
    payload = ten_thousand_flags()
    hgetall = json.loads(payload)  # what HGETALL returns: key -> one JSON string per flag

    def load():
        definitions = {key: from_json(raw) for key, raw in hgetall.items()}
        return Snapshot(compile_all(definitions), version=1, environment="production")

    loaded, load_mib = measure_memory(load)
    probe("10,000 flags loaded", len(loaded), 10_000)
    sample = json.loads(json.loads(payload)["flag_3"])
    probe(
        "a loaded flag",
        loaded.is_enabled("flag_3", Context("3123")),
        Snapshot.from_definitions([sample], environment="production").is_enabled("flag_3", Context("3123")),
    )
    probe("compiled as CompiledFlag", isinstance(loaded.flags["flag_3"], CompiledFlag), True)
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        loaded = load()
        timings.append(time.perf_counter() - start)
    parsing = []
    for _ in range(3):
        gc.disable()  # as the load pauses the collector
        start = time.perf_counter()
        [json.loads(text) for text in hgetall.values()]
        parsing.append(time.perf_counter() - start)
        gc.enable()
    print(
        f"\n10,000 flags from their Redis form, 3 environments each (one JSON per flag, as HGETALL returns "
        f"them; the deployment's environment compiled): best {min(timings) * 1000:.0f} ms, "
        f"worst {max(timings) * 1000:.0f} ms "
        f"of 3; {load_mib:.1f} MiB ({len(loaded)} flags)"
    )
    print(f"  of which parsing the 10,000 JSON definitions alone: best {min(parsing) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
