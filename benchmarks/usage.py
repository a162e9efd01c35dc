"""Cost per check of usage counting (and guardrail attribution), against counting off, in one run.

    python -m benchmarks.usage [--quick]

The figure that matters: ``is_enabled`` with counting on must stay within the
1 µs budget per check. Counting is an in-process dict increment; the flush to
Redis runs in a background thread and is not on this path.
"""

from __future__ import annotations

import argparse

from benchmarks._django import setup

setup()

from benchmarks.engine import floor_check, per_call_us  # noqa: E402
from featureflags import is_enabled, usage  # noqa: E402
from featureflags.engine import Snapshot  # noqa: E402
from featureflags.guardrails import limits, monitor  # noqa: E402
from featureflags.guardrails.attribution import evaluated_on  # noqa: E402
from featureflags.store import runtime  # noqa: E402

BUDGET_US = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    args = parser.parse_args()
    number = 20_000 if args.quick else 100_000
    runtime.install(Snapshot.from_definitions([{"key": "pct", "enabled": True, "percentage": 50}], version=1))

    def check() -> bool:
        return is_enabled("pct", "12345")

    def counting_off() -> None:
        usage.active = False

    def counting_on() -> None:
        usage.reset()
        usage.configure()  # as in production: USAGE_COUNTING defaults to True
        usage.active = True

    def attributing() -> None:
        counting_on()
        usage.watched = frozenset({"pct"})  # a watched flag, inside a request handled by the guardrail middleware
        evaluated_on.set([])

    modes = {"off": counting_off, "on": counting_on, "watched": attributing}
    best = dict.fromkeys(modes, float("inf"))
    counted = 0
    # Rounds alternate the modes so that a busy machine slows them alike; the best round of each counts.
    for _round in range(5):
        for mode, prepare in modes.items():
            prepare()
            best[mode] = min(best[mode], per_call_us(check, number))
            if mode == "on":
                counted = usage.counts.get("pct", 0)
    evaluated_on.set(None)
    usage.reset()
    off, on, watched = best["off"], best["on"], best["watched"]

    base = per_call_us(floor_check(), number)
    # The latency guardrail's cost on a call faster than its baseline (the common case): no I/O.
    limits._table = limits._Table(runtime.current().version, {"pct": limits.Limits("pct", None, 60, 0.5, 10)})
    monitored = per_call_us(monitor("pct")(lambda: None), number) - per_call_us(lambda: None, number)
    rows = [
        ("floor: dict + crc32", base),
        ("is_enabled, counting off", off),
        ("is_enabled, counting on", on),
        ("is_enabled, counting on + error attribution", watched),
        ("monitor(): added per fast guarded call", monitored),
    ]
    print(f"{'what':48} {'µs/check':>9} {'x floor':>8} {'x off':>6}")
    for name, value in rows:
        print(f"{name:48} {value:9.3f} {value / base:8.1f} {value / off:6.2f}")
    print(
        f"counting adds {on - off:+.3f} µs per check; budget {BUDGET_US} µs: {'within' if on <= BUDGET_US else 'OVER'}"
    )
    print(f"{counted} evaluations counted in the last 'on' round (expected {5 * number}, approximate by design)")


if __name__ == "__main__":
    main()
