"""Results from counts: tests, warnings and verdicts (pure, no Redis)."""

from __future__ import annotations

import pytest

from featureflags.experiments import stats
from featureflags.experiments.results import compute, format_p, format_uplift, verdict_line
from featureflags.experiments.store import ExperimentCounts, GoalCounts, VariantCounts


def counts(cells: dict[str, tuple[int, int, float, float]], goal: str = "purchase") -> ExperimentCounts:
    """``variant -> (exposures, conversions, value_sum, value_sumsq)``."""
    return ExperimentCounts(
        "checkout",
        ["20261120", "20261121"],
        {
            name: VariantCounts(
                exposures=n,
                new_by_day={"20261120": n // 2, "20261121": n - n // 2},
                seen_by_day={"20261120": n // 2, "20261121": n // 3},
                goals={goal: GoalCounts(c, c, s, q, {"20261120": c // 2, "20261121": c - c // 2})},
            )
            for name, (n, c, s, q) in cells.items()
        },
    )


def test_a_clear_winner():
    results = compute(counts({"A": (5000, 500, 0, 0), "B": (5000, 600, 0, 0)}), [("A", 1), ("B", 1)])
    assert results.warnings == []
    (verdict,) = results.verdicts
    expected = stats.two_proportion_ztest(500, 5000, 600, 5000)
    assert verdict == f"B beats A on purchase: +20 %, p = {format_p(expected.p_value)}"
    assert format_p(expected.p_value) == "0.001"
    a, b = results.goals[0].rows
    assert (a.rate, b.rate) == (0.1, 0.12)
    assert a.rate_test is None and b.rate_test == expected


def test_a_loser_and_values():
    cells = {"A": (4000, 800, 40_000.0, 2_400_000.0), "B": (4000, 640, 30_000.0, 1_700_000.0)}
    results = compute(counts(cells), [("A", 1), ("B", 1)])
    goal = results.goals[0]
    assert goal.has_values
    rate_line, value_line = goal.verdicts
    assert rate_line.startswith("B is worse than A on purchase: −20 %")
    expected = stats.welch_ttest(4000, 40_000.0, 2_400_000.0, 4000, 30_000.0, 1_700_000.0)
    assert goal.rows[1].value_test == expected
    assert goal.rows[1].mean_value == 7.5
    assert value_line.startswith("B is worse than A on purchase (value per unit): −25 %")


def test_sample_ratio_mismatch_warns():
    results = compute(counts({"A": (5400, 540, 0, 0), "B": (4600, 460, 0, 0)}), [("A", 1), ("B", 1)])
    assert results.sample_ratio.mismatch
    assert any(w.startswith("Sample ratio mismatch") for w in results.warnings)
    # The same split is what 54/46 weights ask for.
    assert compute(counts({"A": (5400, 540, 0, 0), "B": (4600, 460, 0, 0)}), [("A", 54), ("B", 46)]).warnings == []


def test_a_small_sample_warns_and_the_verdict_waits():
    results = compute(counts({"A": (60, 6, 0, 0), "B": (55, 20, 0, 0)}), [("A", 1), ("B", 1)], min_sample=100)
    assert any("too small" in w for w in results.warnings)
    (verdict,) = results.verdicts
    assert verdict.startswith("Too early to call B vs A on purchase")
    # Enough units but too few conversions is small too.
    results = compute(counts({"A": (500, 3, 0, 0), "B": (500, 4, 0, 0)}), [("A", 1), ("B", 1)])
    assert any("too small to conclude on purchase" in w for w in results.warnings)


def test_days_are_cumulative():
    results = compute(counts({"A": (100, 10, 0, 0), "B": (100, 20, 0, 0)}), [("A", 1), ("B", 1)])
    first, second = results.days
    assert first.day == "2026-11-20" and second.day == "2026-11-21"
    assert first.cumulative_exposures == {"A": 50, "B": 50}
    assert second.cumulative_exposures == {"A": 100, "B": 100}
    assert first.cumulative_rate == {"A": 5 / 50, "B": 10 / 50}
    assert second.cumulative_rate == {"A": 0.1, "B": 0.2}
    assert first.seen == {"A": 50, "B": 50}


def test_a_removed_variant_is_still_shown():
    results = compute(counts({"A": (500, 50, 0, 0), "B": (500, 60, 0, 0), "old": (20, 2, 0, 0)}), [("A", 1), ("B", 1)])
    assert results.variants == [("A", 1), ("B", 1), ("old", 0)]
    assert [row.variant for row in results.goals[0].rows] == ["A", "B", "old"]
    assert not results.sample_ratio.mismatch  # only weighted variants are in the SRM check


def test_no_data():
    results = compute(ExperimentCounts("checkout", [], {}), [("A", 1), ("B", 1)])
    assert results.total_exposures == 0
    assert results.goals == [] and results.days == [] and results.sample_ratio is None


@pytest.mark.parametrize(("uplift", "text"), [(0.1234, "+12 %"), (-0.031, "−3.1 %"), (0.0, "+0.0 %")])
def test_format_uplift(uplift, text):
    assert format_uplift(uplift) == text


@pytest.mark.parametrize(("p", "text"), [(0.0001, "< 0.001"), (0.0031, "0.003"), (0.0449, "0.045"), (0.41, "0.41")])
def test_format_p(p, text):
    assert format_p(p) == text


def test_verdict_without_a_control_rate():
    test = stats.two_proportion_ztest(0, 1000, 30, 1000)
    assert verdict_line("signup", "A", "B", test, "rate", False) == "B beats A on signup, p < 0.001"


def test_an_undecided_goal_says_how_many_units_it_needs():
    results = compute(counts({"A": (1000, 100, 0, 0), "B": (1000, 120, 0, 0)}), [("A", 1), ("B", 1)])
    assert not results.goals[0].rows[1].rate_test.significant
    assert results.goals[0].needed == stats.sample_size(0.10, 0.12) == 3841
    decided = compute(counts({"A": (5000, 500, 0, 0), "B": (5000, 600, 0, 0)}), [("A", 1), ("B", 1)])
    assert decided.goals[0].needed is None
