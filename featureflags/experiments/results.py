"""An experiment's results: counts from Redis, the statistics, warnings and a verdict in words.

results = experiment_results("checkout")      # reads Redis; raises ResultsUnavailable
results.verdicts                               # ["B beats A on purchase: +12 %, p = 0.003"]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..conf import flag_settings
from . import stats
from .store import ExperimentCounts, GoalCounts, read_counts


class ResultsUnavailable(Exception):
    """Experiment data cannot be read (no Redis configured, or Redis down)."""


@dataclass(frozen=True)
class GoalRow:
    """One variant on one goal."""

    variant: str
    exposures: int
    conversions: int
    events: int
    value_sum: float
    value_sumsq: float
    rate: float | None
    mean_value: float | None  # per exposed unit (units that did not convert count as 0)
    rate_test: stats.Comparison | None  # None for the control
    value_test: stats.Comparison | None  # None for the control, or without values


@dataclass(frozen=True)
class GoalResult:
    goal: str
    rows: list[GoalRow]
    has_values: bool
    verdicts: list[str]
    # Units per variant that would detect the observed rate difference 80 % of the time, when not yet significant.
    needed: int | None = None


@dataclass(frozen=True)
class DayPoint:
    day: str  # YYYY-MM-DD
    seen: dict[str, int]  # unique units exposed that day (HyperLogLog)
    cumulative_exposures: dict[str, int]
    cumulative_rate: dict[str, float | None]  # of the first goal


@dataclass
class ExperimentResults:
    key: str
    variants: list[tuple[str, int]]  # (name, weight), the control first
    exposures: dict[str, int]
    goals: list[GoalResult]
    sample_ratio: stats.SampleRatio | None
    days: list[DayPoint]
    warnings: list[str] = field(default_factory=list)

    @property
    def control(self) -> str | None:
        return self.variants[0][0] if self.variants else None

    @property
    def total_exposures(self) -> int:
        return sum(self.exposures.values())

    @property
    def variant_rows(self) -> list[tuple[str, int, int, float | None]]:
        """``(name, weight, units exposed, share of all exposed)`` for the exposures table."""
        total = self.total_exposures
        return [
            (name, weight, self.exposures[name], self.exposures[name] / total if total else None)
            for name, weight in self.variants
        ]

    @property
    def verdicts(self) -> list[str]:
        return [line for goal in self.goals for line in goal.verdicts]


def experiment_results(key: str, variants: Sequence[tuple[str, int]], client=None) -> ExperimentResults:
    """Read ``key``'s counts and compute its results; ``variants`` are the flag's ``(name, weight)`` pairs."""
    from . import flusher

    client = client or flusher.client()
    if client is None:
        raise ResultsUnavailable("Experiments need Redis: set FEATUREFLAGS['REDIS_URL'] (or REDIS_SENTINELS).")
    try:
        counts = read_counts(client, flag_settings.KEY_PREFIX, key)
    except Exception as exc:
        raise ResultsUnavailable(f"Redis cannot be read: {exc}") from exc
    return compute(counts, variants, int(flag_settings.EXPERIMENT_MIN_SAMPLE))


def compute(counts: ExperimentCounts, variants: Sequence[tuple[str, int]], min_sample: int = 100) -> ExperimentResults:
    """The results of ``counts`` (pure: no I/O)."""
    declared = [name for name, _ in variants]
    # Variants removed since still have data: shown after the declared ones, with weight 0.
    variants = list(variants) + [(name, 0) for name in sorted(counts.variants) if name not in declared]
    exposures = {name: counts.variants[name].exposures if name in counts.variants else 0 for name, _ in variants}
    results = ExperimentResults(counts.key, variants, exposures, [], None, [])
    weighted = [(name, weight) for name, weight in variants if weight > 0]
    if len(weighted) >= 2 and results.total_exposures:
        results.sample_ratio = stats.sample_ratio([exposures[n] for n, _ in weighted], [w for _, w in weighted])
        if results.sample_ratio.mismatch:
            shares = ", ".join(f"{n} {exposures[n] / results.total_exposures:.1%}" for n, _ in weighted)
            total = sum(w for _, w in weighted)
            planned = ", ".join(f"{n} {w / total:.1%}" for n, w in weighted)
            results.warnings.append(
                f"Sample ratio mismatch ({p_phrase(results.sample_ratio.p_value)}): exposures split {shares}, "
                f"the weights ask for {planned}. Look for a bug in assignment or logging before trusting the results."
            )
    small = [name for name, _ in variants[:2] if exposures[name] < min_sample] if len(variants) >= 2 else []
    small += [name for name, weight in variants[2:] if weight > 0 and exposures[name] < min_sample]
    if small:
        results.warnings.append(
            f"The sample is too small to conclude: {', '.join(small)} "
            f"{'has' if len(small) == 1 else 'have'} fewer than {min_sample} exposed units."
        )
    for goal in counts.goals:
        results.goals.append(_goal_result(goal, counts, variants, exposures, min_sample, results.warnings))
    results.days = _days(counts, variants, counts.goals[0] if counts.goals else None)
    return results


def _goal_result(goal, counts, variants, exposures, min_sample, warnings) -> GoalResult:
    control = variants[0][0]
    rows: list[GoalRow] = []
    cells = {name: _goal_counts(counts, name, goal) for name, _ in variants}
    has_values = any(cell.value_sum or cell.value_sumsq for cell in cells.values())
    base = cells[control]
    n0 = exposures[control]
    for name, _ in variants:
        cell, n = cells[name], exposures[name]
        rate_test = value_test = None
        if name != control and n > 0 and n0 > 0:
            rate_test = stats.two_proportion_ztest(base.conversions, n0, cell.conversions, n)
            if has_values and n >= 2 and n0 >= 2:
                value_test = stats.welch_ttest(
                    n0, base.value_sum, base.value_sumsq, n, cell.value_sum, cell.value_sumsq
                )
        rows.append(
            GoalRow(
                name,
                n,
                cell.conversions,
                cell.events,
                cell.value_sum,
                cell.value_sumsq,
                cell.conversions / n if n else None,
                cell.value_sum / n if n and has_values else None,
                rate_test,
                value_test,
            )
        )
    too_small = any(
        row.exposures < min_sample or row.conversions < 10 or row.exposures - row.conversions < 10
        for row in rows
        if row.exposures or row.variant == control
    )
    if too_small and not any(w.startswith("The sample is too small") for w in warnings):
        warnings.append(
            f"The sample is too small to conclude on {goal}: each variant needs at least {min_sample} exposed units "
            "and 10 units that converted and 10 that did not."
        )
    return GoalResult(goal, rows, has_values, _verdicts(goal, control, rows, too_small), _needed(rows))


def _needed(rows: list[GoalRow]) -> int | None:
    """The largest sample any undecided treatment needs at the rates seen so far."""
    control = rows[0]
    sizes = [
        stats.sample_size(control.rate, row.rate)
        for row in rows[1:]
        if row.rate_test is not None and not row.rate_test.significant and control.rate is not None
    ]
    sizes = [n for n in sizes if n is not None]
    return max(sizes) if sizes else None


def _goal_counts(counts: ExperimentCounts, variant: str, goal: str) -> GoalCounts:
    cell = counts.variants.get(variant)
    return cell.goals.get(goal, GoalCounts()) if cell is not None else GoalCounts()


def _verdicts(goal: str, control: str, rows: list[GoalRow], too_small: bool) -> list[str]:
    lines = []
    for row in rows:
        test = row.rate_test
        if test is None:
            continue
        lines.append(verdict_line(goal, control, row.variant, test, "rate", too_small))
        if row.value_test is not None:
            lines.append(verdict_line(goal, control, row.variant, row.value_test, "value per unit", too_small))
    return lines


def verdict_line(goal: str, control: str, variant: str, test: stats.Comparison, measure: str, too_small: bool) -> str:
    """``"B beats A on purchase: +12 %, p = 0.003"``, or a line saying why there is no winner yet.

    >>> verdict_line("purchase", "A", "B", stats.two_proportion_ztest(500, 5000, 600, 5000), "rate", False)
    'B beats A on purchase: +20 %, p = 0.001'
    """
    on = goal if measure == "rate" else f"{goal} ({measure})"
    uplift = "" if test.uplift is None else f": {format_uplift(test.uplift)}"
    p = p_phrase(test.p_value)
    if too_small:
        return f"Too early to call {variant} vs {control} on {on}{uplift}, {p} (the sample is too small)."
    if not test.significant:
        return f"No significant difference between {variant} and {control} on {on}{uplift}, {p}."
    if test.difference > 0:
        return f"{variant} beats {control} on {on}{uplift}, {p}"
    return f"{variant} is worse than {control} on {on}{uplift}, {p}"


def format_uplift(uplift: float) -> str:
    percent = uplift * 100
    digits = 0 if abs(percent) >= 10 else 1
    return f"{'+' if percent >= 0 else '−'}{abs(percent):.{digits}f} %"


def p_phrase(p: float) -> str:
    """``"p = 0.003"`` or ``"p < 0.001"``."""
    text = format_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def format_p(p: float) -> str:
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def _days(counts: ExperimentCounts, variants, goal: str | None) -> list[DayPoint]:
    points = []
    exposed = {name: 0 for name, _ in variants}
    converted = {name: 0 for name, _ in variants}
    for day in counts.days:
        seen = {}
        for name, _ in variants:
            cell = counts.variants.get(name)
            if cell is None:
                seen[name] = 0
                continue
            seen[name] = cell.seen_by_day.get(day, 0)
            exposed[name] += cell.new_by_day.get(day, 0)
            if goal is not None and goal in cell.goals:
                converted[name] += cell.goals[goal].by_day.get(day, 0)
        rates = {name: (converted[name] / exposed[name] if exposed[name] else None) for name in exposed}
        points.append(DayPoint(f"{day[:4]}-{day[4:6]}-{day[6:]}", seen, dict(exposed), rates))
    return points
