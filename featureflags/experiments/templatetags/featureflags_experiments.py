"""Filters for experiment results: ``{{ rate|percent }}``, ``{{ uplift|uplift }}``, ``{{ p|pvalue }}``."""

from __future__ import annotations

from django import template

from ..results import format_p, format_uplift

register = template.Library()


@register.filter
def percent(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f} %"


@register.filter
def uplift(value: float | None) -> str:
    return "—" if value is None else format_uplift(value)


@register.filter
def pvalue(value: float | None) -> str:
    return "—" if value is None else format_p(value)
