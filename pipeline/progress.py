"""How a stage reports progress: a callable taking a Vietnamese and an English line.

A reporter may also show counted work (a bar with counts and rate): it then
has a ``counted(vi, en, total, unit)`` method returning a context manager that
yields ``advance(n)``. Stages use :func:`counted`, which falls back to one
plain line for reporters without bars (library use, tests, logs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Progress = Callable[[str, str], None]
Advance = Callable[[int], None]


def no_progress(vi: str, en: str) -> None:
    """Report nothing (library use, tests)."""


def no_advance(n: int = 1) -> None:
    """Count nothing (a step run without a bar)."""


@contextmanager
def counted(progress: Progress, vi: str, en: str, total: int, unit: str) -> Iterator[Advance]:
    """A step of ``total`` ``unit``s: yields ``advance(n)`` to count ``n`` of them done."""
    meter = getattr(progress, "counted", None)
    if meter is None:
        progress(vi, en)
        yield lambda n=1: None
        return
    with meter(vi, en, total, unit) as advance:
        yield advance
