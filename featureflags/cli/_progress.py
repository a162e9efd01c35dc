"""A progress bar for long id lists: tqdm's when it is installed (``pip install featureflags[progress]``), else none."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], label: str, total: int | None = None, minimum: int = 0) -> Iterable[T]:
    """``items`` unchanged, shown as a bar on stderr when tqdm is importable and ``total`` reaches ``minimum``."""
    try:
        from tqdm import tqdm  # optional: the CLI works with the core install alone
    except ImportError:
        return items
    disable = total is not None and total < minimum
    shown: Iterator[T] = tqdm(
        items, total=total, unit=" ids", desc=label, file=sys.stderr, mininterval=0.5, disable=disable
    )
    return shown
