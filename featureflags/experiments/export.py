"""CSV exports of an experiment: exposures, conversions and feedback, streamed row by row."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

from ..conf import flag_settings
from . import store
from .models import Feedback

KINDS = ("exposures", "conversions", "feedback")


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([_safe(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _safe(value):
    # A cell starting with = + - @ would run as a formula in a spreadsheet: quote it.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export(key: str, kind: str, client=None) -> StreamingHttpResponse:
    """The CSV of ``kind`` (one of :data:`KINDS`) for flag ``key``; Redis kinds need a client."""
    prefix = flag_settings.KEY_PREFIX
    if kind == "exposures":
        rows = ((key, unit, variant, _day(day)) for unit, variant, day in store.iter_exposures(client, prefix, key))
        return csv_response(f"{key}-exposures.csv", ["flag", "unit", "variant", "first_exposed"], rows)
    if kind == "conversions":
        goals = store.read_counts(client, prefix, key).goals
        rows = (
            (key, goal, unit, variant, total)
            for goal, unit, variant, total in store.iter_conversions(client, prefix, key, goals)
        )
        return csv_response(f"{key}-conversions.csv", ["flag", "goal", "unit", "variant", "total_value"], rows)
    if kind == "feedback":
        entries = Feedback.objects.filter(flag_key=key).order_by("created_at", "id").iterator()
        rows = ((key, f.created_at.isoformat(), f.unit, f.variant, f.enabled, f.rating or "", f.text) for f in entries)
        return csv_response(f"{key}-feedback.csv", ["flag", "at", "unit", "variant", "enabled", "rating", "text"], rows)
    raise ValueError(f"kind: one of {', '.join(KINDS)}, not {kind!r}")


def _day(day: str) -> str:
    return f"{day[:4]}-{day[4:6]}-{day[6:]}" if len(day) == 8 else day
