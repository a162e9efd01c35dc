"""``text/plain`` and ``text/csv`` bodies of user ids: streamed, one id per line, never read whole.

The parser hands the view an iterator over the request's lines, so a million ids go to
the database in batches and ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (which limits bodies read
into memory) does not apply. A line that is not UTF-8 is refused, naming it.
"""

from __future__ import annotations

from collections.abc import Iterator

from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser

MAX_IDS_PER_REQUEST = 1_000_000


class IdLines:
    """The ids of a text body, read lazily (at most once)."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def __iter__(self) -> Iterator[str]:
        if self.stream is None:
            return
        count = 0
        for number, raw in enumerate(self.stream, start=1):
            try:
                line = raw.decode("utf-8").strip() if isinstance(raw, bytes) else raw.strip()
            except UnicodeDecodeError:
                # Raised inside the write's transaction: nothing is kept.
                raise ValidationError({"users": [f"Line {number} is not UTF-8 text."]}) from None
            if line:
                count += 1
                if count > MAX_IDS_PER_REQUEST:
                    raise ValidationError({"users": [f"At most {MAX_IDS_PER_REQUEST:,} ids in one request."]})
                yield line


class PlainTextIdsParser(BaseParser):
    media_type = "text/plain"

    def parse(self, stream, media_type=None, parser_context=None) -> IdLines:
        return IdLines(stream)


class CsvIdsParser(PlainTextIdsParser):
    media_type = "text/csv"
