"""Simulated experiments: 10 % vs 12 % through the real Redis and the results page; A/A runs."""

from __future__ import annotations

import random
import re

import pytest

from featureflags.engine import Context, Snapshot
from featureflags.experiments import flusher, stats
from featureflags.experiments.results import compute
from featureflags.experiments.store import ExperimentCounts, GoalCounts, VariantCounts

from .simulation import simulate

UNITS = 10_000
TRUE_RATES = {"A": 0.10, "B": 0.12}


def shown_counts(html: str, variants) -> tuple[dict[str, int], dict[str, int]]:
    """The units exposed and converted (goal purchase) per variant, as the results page shows them."""
    exposed, converted = {}, {}
    for name in variants:
        exposed[name] = int(re.search(rf'<tr data-variant="{name}">.*?data-exposed>(\d+)<', html, re.S).group(1))
        goal = re.search(rf'data-goal="purchase".*?<tr data-variant="{name}">.*?data-converted>(\d+)<', html, re.S)
        converted[name] = int(goal.group(1))
    return exposed, converted


def first_verdict(html: str) -> str:
    return re.search(r"<li[^>]*data-verdict>(.*?)</li>", html, re.S).group(1)


@pytest.mark.django_db
@pytest.mark.redis
def test_ten_thousand_units_ten_vs_twelve_percent(experiments, make_experiment, viewer_client, settings):
    make_experiment()
    exposed, converted = simulate(UNITS, TRUE_RATES, seed=20261121)
    assert flusher.flush() == (0, 0)  # all sent

    response = viewer_client.get("/flags/checkout/experiment/")
    assert response.status_code == 200
    html = response.content.decode()
    assert shown_counts(html, ("A", "B")) == (exposed, converted)
    assert sum(exposed.values()) == UNITS
    reference = stats.two_proportion_ztest(converted["A"], exposed["A"], converted["B"], exposed["B"])
    assert reference.p_value < 0.05
    verdict = first_verdict(html)
    assert verdict.startswith("B beats A on purchase: +")
    assert re.search(r", p (= 0\.0[0-4]\d|&lt; 0\.001)$", verdict), verdict
    assert "data-warning" not in html  # enough units, and the split matches the weights
    assert "<svg" in html and "Units exposed per day" in html

    csv = viewer_client.get("/flags/checkout/experiment/exposures.csv")
    assert csv.status_code == 200
    lines = b"".join(csv.streaming_content).decode().splitlines()
    assert lines[0] == "flag,unit,variant,first_exposed"
    assert len(lines) == UNITS + 1


def aa_counts(run: int, units: int, rate: float) -> ExperimentCounts:
    """One A/A run: the real engine assigns the units (salted per run), both variants convert at ``rate``."""
    snapshot = Snapshot.from_definitions(
        [{"key": "aa", "enabled": True, "salt": f"aa-{run}", "variants": [{"name": "A"}, {"name": "B"}]}]
    )
    rng = random.Random(run)
    cells = {name: VariantCounts(goals={"purchase": GoalCounts()}) for name in ("A", "B")}
    for i in range(units):
        cell = cells[snapshot.variant("aa", Context(f"{run}-{i}"))]
        cell.exposures += 1
        if rng.random() < rate:
            cell.goals["purchase"].conversions += 1
    return ExperimentCounts("aa", [], cells)


def test_aa_simulation_is_rarely_significant():
    runs = 60
    significant = 0
    for run in range(runs):
        results = compute(aa_counts(run, 2_000, 0.10), [("A", 1), ("B", 1)])
        (verdict,) = results.verdicts
        if results.goals[0].rows[1].rate_test.significant:
            significant += 1
            assert " beats " in verdict or " worse than " in verdict
        else:
            assert verdict.startswith("No significant difference between B and A on purchase")
        assert results.sample_ratio is not None
    # About 5 % of A/A runs are significant at p < 0.05 by chance; most must not be.
    assert significant <= 8, significant


@pytest.mark.django_db
@pytest.mark.redis
def test_an_aa_experiment_through_redis_shows_no_winner(experiments, make_experiment, viewer_client):
    make_experiment("aa_checkout", variants=(("A", 1), ("A2", 1)))
    exposed, converted = simulate(4_000, {"A": 0.10, "A2": 0.10}, seed=7, key="aa_checkout")
    html = viewer_client.get("/flags/aa_checkout/experiment/").content.decode()
    verdict = first_verdict(html)
    assert verdict.startswith("No significant difference between A2 and A on purchase"), verdict
    assert re.search(r"data-needed>At the rates seen so far, about <strong>\d+</strong> units per variant", html)
    assert "data-warning" not in html
    assert sum(exposed.values()) == 4_000
    assert shown_counts(html, ("A", "A2")) == (exposed, converted)
