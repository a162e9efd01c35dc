"""Cost per check of usage counting (and guardrail attribution), against counting off, in one run.

    python -m benchmarks.usage [--quick]

The figure that matters: ``is_enabled`` with counting on must stay within the
1 µs budget per check. Counting is an in-process dict increment; the flush to
Redis runs in a background thread and is not on this path.
"""

from __future__ import annotations

import argparse
import timeit
import zlib

from benchmarks._django import setup

setup()

from featureflags import is_enabled, usage  # noqa: E402
from featureflags.engine import Snapshot  # noqa: E402
from featureflags.guardrails.attribution import evaluated_on  # noqa: E402
from featureflags.store import runtime  # noqa: E402

BUDGET_US = 1.0


def per_call_us(func, number: int) -> float:
    """Best of seven runs, in microseconds per call."""
    return min(timeit.Timer(func).repeat(repeat=7, number=number)) / number * 1e6


def floor():
    flags = {"pct": 50}
    uid = b"12345"

    def check() -> bool:
        percentage = flags.get("pct")
        return percentage is not None and zlib.crc32(uid) % 100 < percentage

    return check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    args = parser.parse_args()
    number = 50_000 if args.quick else 300_000
    runtime.install(Snapshot.from_definitions([{"key": "pct", "enabled": True, "percentage": 50}], version=1))

    def check() -> bool:
        return is_enabled("pct", "12345")

    usage.active = False
    off = per_call_us(check, number)

    usage.reset()
    usage.configure()  # counting on, as in production (USAGE_COUNTING defaults to True)
    assert usage.active
    on = per_call_us(check, number)
    flushed = usage.get_usage(["pct"]).get("pct")
    counted = usage.counts.get("pct", 0) + (flushed.count if flushed else 0)

    usage.watched = frozenset({"pct"})  # a watched flag inside a request handled by the guardrail middleware
    token = evaluated_on.set([])
    watched = per_call_us(check, number)
    evaluated_on.reset(token)
    usage.watched = frozenset()

    base = per_call_us(floor(), number)
    rows = [
        ("floor: dict + crc32", base),
        ("is_enabled, counting off", off),
        ("is_enabled, counting on", on),
        ("is_enabled, counting on + error attribution", watched),
    ]
    print(f"{'what':48} {'µs/check':>9} {'x floor':>8} {'x off':>6}")
    for name, value in rows:
        print(f"{name:48} {value:9.3f} {value / base:8.1f} {value / off:6.2f}")
    print(
        f"counting adds {on - off:+.3f} µs per check; budget {BUDGET_US} µs: {'within' if on <= BUDGET_US else 'OVER'}"
    )
    print(f"{counted} evaluations counted during the 'on' run (expected {7 * number}, approximate by design)")


if __name__ == "__main__":
    main()
