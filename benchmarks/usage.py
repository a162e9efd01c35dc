"""Cost per check of usage counting (and guardrail attribution), against counting off, in one run.

    python -m benchmarks.usage [--quick]

The figure that matters: ``is_enabled`` with counting on must stay within the
1 µs budget per check, on the bare-id fast path and on the general path. Counting
is an in-process increment of the flag's cell; the flush to Redis runs in a
background thread and is not on this path.
"""

from __future__ import annotations

import argparse

from benchmarks._django import setup

setup()

from django.conf import settings  # noqa: E402
from django.test import override_settings  # noqa: E402

from benchmarks.engine import floor_check, per_call_us  # noqa: E402
from featureflags import id_checks, is_enabled, usage  # noqa: E402
from featureflags.engine import Context, Snapshot  # noqa: E402
from featureflags.guardrails import limits, monitor  # noqa: E402
from featureflags.guardrails.attribution import evaluated_on  # noqa: E402
from featureflags.store import runtime  # noqa: E402

BUDGET_US = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    args = parser.parse_args()
    number = 20_000 if args.quick else 100_000
    snapshot = Snapshot.from_definitions([{"key": "pct", "enabled": True, "percentage": 50}], version=1)
    context = Context("12345")

    def by_id() -> bool:  # the bare-id fast path (featureflags/id_checks.py)
        return is_enabled("pct", "12345")

    def by_context() -> bool:  # the general path (a Context, as from a request)
        return is_enabled("pct", context)

    overrides = {
        counting: override_settings(FEATUREFLAGS={**settings.FEATUREFLAGS, "USAGE_COUNTING": counting})
        for counting in (False, True)
    }
    in_force = []

    def switch(counting: bool, watched: frozenset = frozenset()) -> None:
        """As in production: the setting, then the flags the guardrails watch."""
        if in_force:  # one override at a time: enabling another on top would nest them
            in_force.pop().disable()
        overrides[counting].enable()
        in_force.append(overrides[counting])
        runtime.install(snapshot)
        usage.configure()
        usage.watched = watched
        id_checks.forget()
        evaluated_on.set([] if watched else None)  # a watched flag, inside a request the guardrail middleware handles

    modes = {
        "off": lambda: switch(False),
        "on": lambda: switch(True),
        "watched": lambda: switch(True, frozenset({"pct"})),
    }
    best = {(mode, path): float("inf") for mode in modes for path in ("id", "context")}
    counted = 0
    # Rounds alternate the modes so that a busy machine slows them alike; the best round of each counts.
    for _round in range(5):
        for mode, prepare in modes.items():
            prepare()
            best[mode, "id"] = min(best[mode, "id"], per_call_us(by_id, number))
            if mode == "on":
                counted = usage.pending().get("pct", 0)
            best[mode, "context"] = min(best[mode, "context"], per_call_us(by_context, number))
    evaluated_on.set(None)
    usage.reset()
    off, on = best["off", "id"], best["on", "id"]

    base = per_call_us(floor_check(), number)
    # The latency guardrail's cost on a call faster than its baseline (the common case): no I/O.
    runtime.install(snapshot)
    limits._table = limits._Table(snapshot.version, {"pct": limits.Limits("pct", None, 60, 0.5, 10)})
    monitored = per_call_us(monitor("pct")(lambda: None), number) - per_call_us(lambda: None, number)
    rows = [("floor: dict + crc32", base)]
    for path, label in (("id", "is_enabled(key, id)"), ("context", "is_enabled(key, context)")):
        rows += [
            (f"{label}, counting off", best["off", path]),
            (f"{label}, counting on", best["on", path]),
            (f"{label}, counting on + error attribution", best["watched", path]),
        ]
    rows.append(("monitor(): added per fast guarded call", monitored))
    print(f"{'what':58} {'µs/check':>9} {'x floor':>8} {'x off':>6}")
    for name, value in rows:
        print(f"{name:58} {value:9.3f} {value / base:8.1f} {value / off:6.2f}")
    by_context_added = best["on", "context"] - best["off", "context"]
    print(f"counting adds {on - off:+.3f} µs per bare-id check, {by_context_added:+.3f} µs per context check")
    worst = max(best["on", "id"], best["on", "context"])
    print(f"is_enabled with counting on, slower path: {worst:.3f} µs; budget {BUDGET_US} µs: ", end="")
    print("within" if worst <= BUDGET_US else "OVER")
    print(f"{counted} evaluations counted in the last 'on' round (expected {5 * number}, approximate by design)")


if __name__ == "__main__":
    main()
