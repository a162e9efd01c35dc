"""The results page in a real browser (Playwright, Debian's Chromium, pytest-django's live server)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import featureflags
from tests.browser.conftest import screenshot
from tests.dashboard.conftest import make_operator

from .simulation import simulate

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.slow]


def test_results_page_in_a_browser(experiments, make_experiment, new_context):
    make_experiment(variants=(("A", 50), ("B", 50)), description="New checkout flow")
    exposed, converted = simulate(10_000, {"A": 0.10, "B": 0.12}, seed=20261121, days=7)
    featureflags.feedback("checkout", "u1", rating=5, text="Checkout was quick <3")
    featureflags.feedback("checkout", "u2", rating=2)
    page = new_context(user=make_operator("analyst", "view_flag")).new_page()
    page.goto("/flags/experiments/")
    page.click("a.key:text('checkout')")
    page.wait_for_url("**/flags/checkout/experiment/")

    verdict = page.locator("[data-verdict]").first
    assert re.match(r"B beats A on purchase: \+\d+ %, p [=<] 0\.0", verdict.inner_text())
    assert page.locator("[data-warning]").count() == 0
    for name in ("A", "B"):
        assert page.locator(f"[data-exposures] tr[data-variant='{name}'] [data-exposed]").inner_text() == str(
            exposed[name]
        )
        row = page.locator(f"[data-goal='purchase'] tr[data-variant='{name}']")
        assert row.locator("[data-converted]").inner_text() == str(converted[name])
    assert page.locator("[data-feedback] tbody tr").count() == 2
    assert "Checkout was quick <3" in page.locator("[data-feedback]").inner_text()
    chart = page.locator("[data-chart] svg")
    assert chart.is_visible()
    assert chart.bounding_box()["width"] > 500
    assert chart.locator("rect title").count() >= 14  # 7 days x 2 variants of bars

    with page.expect_download() as download:
        page.click("a:text('Conversions (CSV)')")
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0] == "flag,goal,unit,variant,total_value"
    assert len(lines) == 1 + sum(converted.values())
    path = screenshot(page, "experiment-results")
    assert path.stat().st_size > 10_000
