"""The results chart, drawn on the server as SVG: daily exposures (bars) and conversion rate (lines).

svg = results_chart(results)   # markup, safe to put in a template with |safe
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from .results import DayPoint

# Colour-blind-safe (Okabe-Ito); each series also has its own marker shape and a labelled legend.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
MARKERS = ("circle", "square", "diamond", "triangle")
WIDTH, PANEL, GAP, LEFT, RIGHT, TOP = 720, 150, 46, 56, 16, 52


def results_chart(days: Sequence[DayPoint], variants: Sequence[str], goal: str | None) -> str:
    """Two panels over the same days: unique units exposed per day and variant, then cumulative conversion rate."""
    height = TOP + PANEL + GAP + PANEL + 34
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="chart-title" class="exp-chart" font-family="system-ui, sans-serif" font-size="11">',
        '<title id="chart-title">Exposures per day and conversion rate by variant</title>',
    ]
    parts += _legend(variants)
    if not days:
        parts.append(f'<text x="{WIDTH / 2}" y="{height / 2}" text-anchor="middle" fill="#59636e">No data yet</text>')
        return "\n".join(parts + ["</svg>"])
    plot_width = WIDTH - LEFT - RIGHT
    step = plot_width / len(days)
    top1, top2 = TOP, TOP + PANEL + GAP

    # Panel 1: grouped bars of unique exposed units per day.
    peak = nice_ceiling(max((p.seen.get(v, 0) for p in days for v in variants), default=0) or 1)
    parts += _axis(top1, peak, "Units exposed per day", lambda v: f"{v:,.0f}")
    bar = max(1.0, min(28.0, step * 0.8 / max(1, len(variants))))
    for i, point in enumerate(days):
        x0 = LEFT + i * step + (step - bar * len(variants)) / 2
        for j, name in enumerate(variants):
            value = point.seen.get(name, 0)
            h = PANEL * value / peak
            parts.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{top1 + PANEL - h:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" '
                f'fill="{_colour(j)}"><title>{escape(point.day)} {escape(name)}: {value:,} units</title></rect>'
            )

    # Panel 2: cumulative conversion rate per variant.
    rates = [p.cumulative_rate.get(v) for p in days for v in variants]
    peak_rate = max((r for r in rates if r is not None), default=0.0) or 0.01
    peak_rate = min(1.0, nice_ceiling(peak_rate * 1.05))
    label = f"Conversion rate ({goal}), cumulative" if goal else "Conversion rate (no goal tracked yet)"
    parts += _axis(top2, peak_rate, label, lambda v: f"{v:.1%}")
    for j, name in enumerate(variants):
        points = [
            (LEFT + (i + 0.5) * step, top2 + PANEL - PANEL * rate / peak_rate, p.day, rate)
            for i, p in enumerate(days)
            if (rate := p.cumulative_rate.get(name)) is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _d, _r in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{_colour(j)}" stroke-width="2"/>')
        for x, y, day, rate in points:
            parts.append(_marker(j, x, y, f"{day} {name}: {rate:.2%}"))

    # Day labels under the second panel (at most about 12).
    every = max(1, len(days) // 12)
    for i, point in enumerate(days):
        if i % every == 0:
            x = LEFT + (i + 0.5) * step
            parts.append(
                f'<text x="{x:.1f}" y="{top2 + PANEL + 16}" text-anchor="middle" fill="#59636e">'
                f"{escape(point.day[5:])}</text>"
            )
    parts.append("</svg>")
    return "\n".join(parts)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 or 10 times a power of ten that is >= ``value`` (round axis ticks)."""
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value * (1 - 1e-12))


def _colour(index: int) -> str:
    return COLOURS[index % len(COLOURS)]


def _legend(variants: Sequence[str]) -> list[str]:
    parts, x = [], LEFT
    for j, name in enumerate(variants):
        parts.append(_marker(j, x + 5, 14, name))
        parts.append(f'<text x="{x + 14}" y="18" fill="#1f2328">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return parts


def _axis(top: float, peak: float, title: str, fmt) -> list[str]:
    parts = [f'<text x="{LEFT}" y="{top - 6}" font-weight="600" fill="#1f2328">{escape(title)}</text>']
    for k in range(5):
        value = peak * k / 4
        y = top + PANEL - PANEL * k / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d1d9e0"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#59636e">{fmt(value)}</text>')
    return parts


def _marker(index: int, x: float, y: float, label: str) -> str:
    colour, shape, tip = _colour(index), MARKERS[index % len(MARKERS)], f"<title>{escape(label)}</title>"
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">{tip}</circle>'
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}">{tip}</rect>'
    if shape == "diamond":
        d = f"M{x:.1f},{y - 5:.1f} L{x + 5:.1f},{y:.1f} L{x:.1f},{y + 5:.1f} L{x - 5:.1f},{y:.1f} Z"
    else:
        d = f"M{x:.1f},{y - 5:.1f} L{x + 5:.1f},{y + 4:.1f} L{x - 5:.1f},{y + 4:.1f} Z"
    return f'<path d="{d}" fill="{colour}">{tip}</path>'
