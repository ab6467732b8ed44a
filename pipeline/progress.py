"""How a stage reports progress: a callable taking a Vietnamese and an English line."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, str], None]


def no_progress(vi: str, en: str) -> None:
    """Report nothing (library use, tests)."""
