"""The server-side SVG chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from featureflags.experiments.chart import results_chart
from featureflags.experiments.results import DayPoint

NS = "{http://www.w3.org/2000/svg}"


def days(n: int) -> list[DayPoint]:
    return [
        DayPoint(
            f"2026-11-{i + 1:02d}",
            {"A": 100 + i, "<B&>": 90 + i},
            {"A": 100 * (i + 1), "<B&>": 90 * (i + 1)},
            {"A": 0.1, "<B&>": 0.12 if i else None},
        )
        for i in range(n)
    ]


def test_the_chart_is_valid_svg_with_bars_and_lines():
    root = ET.fromstring(results_chart(days(5), ["A", "<B&>"], "purchase"))
    assert root.tag == f"{NS}svg"
    tips = [(r, r.find(f"{NS}title")) for r in root.iter(f"{NS}rect")]
    bars = [r for r, tip in tips if tip is not None and "units" in tip.text]
    assert len(bars) == 10
    assert len(list(root.iter(f"{NS}polyline"))) == 2
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "<B&>" in texts  # escaped in the markup, the name itself once parsed
    assert "Conversion rate (purchase), cumulative" in texts
    tallest = max(float(r.get("height")) for r in bars)
    assert tallest == 78.0  # the busiest day (104 units) on an axis rounded up to 200


def test_no_data():
    svg = results_chart([], ["A", "B"], None)
    assert "No data yet" in svg
    ET.fromstring(svg)


def test_many_days_keep_the_labels_readable():
    root = ET.fromstring(results_chart(days(28), ["A", "<B&>"], "purchase"))
    labels = [t.text for t in root.iter(f"{NS}text") if t.text and t.text[:2] == "11"]
    assert 10 <= len(labels) <= 14


def test_nice_ceiling():
    from featureflags.experiments.chart import nice_ceiling

    assert [nice_ceiling(v) for v in (1, 7, 12, 740, 0.121, 0.26)] == [1, 10, 20, 1000, 0.2, 0.5]
