"""What every command shares: the config option, bilingual output, failing well."""

from __future__ import annotations

import contextlib
import functools
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from pipeline.errors import GeoparkError
from pipeline.failures import explain

#: Exit codes: 0 success, 1 the run finished but QA failed or rows were
#: rejected, 2 bad configuration, unusable input or an everyday failure of the
#: machine (disk full, read-only, database gone: :mod:`pipeline.failures`),
#: 3 internal error (a bug), 130 interrupted.
EXIT_QA_FAILED = 1
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130

console = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

config_option = click.option(
    "--config",
    "-c",
    "config_path",
    # a plain path: load_config says what is wrong with it, bilingually, without "Usage:"
    type=click.Path(readable=False, path_type=Path),
    default=Path("geopark.toml"),
    show_default=True,
    help="Tệp cấu hình / configuration file.",
)


def say(vi: str, en: str) -> None:
    """A progress line: Vietnamese, then English (their text is never read as markup)."""
    console.print(f"[bold cyan]•[/] {escape(redact(vi))} [dim]/ {escape(redact(en))}[/]")


def redact(message: str) -> str:
    """``message`` without the passwords of the environment (DATABASE_URL, PGPASSWORD)."""
    from pipeline.db.connection import redact as without_passwords

    return without_passwords(message)


def elapsed_stamp(seconds: float) -> str:
    """Time since the start as ``m:ss`` (as rich's bars show it): no decimal mark, which
    Vietnamese and English write differently."""
    whole = int(seconds)
    return f"{whole // 60:3d}:{whole % 60:02d}"


def rate_text(per_second: float | None) -> str:
    """A rate with thin groups of three digits (``12 345/s``), read alike in both languages."""
    if not per_second:
        return ""
    return f"{per_second:,.0f}/s".replace(",", "\u202f")


class StageProgress:
    """Prints each stage with the time it took; counted steps get a progress bar.

    Bars (count, rate, elapsed time) are drawn on stderr only when it is a
    terminal, as rich decides; elsewhere each step is one plain line.
    """

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self, vi: str, en: str) -> None:
        stamp = elapsed_stamp(time.perf_counter() - self.start)
        console.print(
            f"[dim]{stamp}[/] [bold cyan]•[/] {escape(redact(vi))} [dim]/ {escape(redact(en))}[/]",
            markup=True,
        )

    @contextlib.contextmanager
    def counted(self, vi: str, en: str, total: int, unit: str) -> Iterator[Callable[[int], None]]:
        self(vi, en)
        columns = (
            TextColumn("       [bold cyan]↳[/]"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn(unit),
            TextColumn("[dim]{task.fields[rate]}[/]"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, disable=not console.is_terminal) as bar:
            task = bar.add_task(en, total=total, rate="")

            def advance(n: int = 1) -> None:
                bar.advance(task, n)
                speed = bar.tasks[task].speed
                bar.update(task, rate=rate_text(speed))

            yield advance


def fails_well(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the project's errors into a message and an exit code, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(click.get_current_context().find_root().params.get("debug"))
        try:
            return func(*args, **kwargs)
        except GeoparkError as exc:
            click.echo(redact(exc.render()), err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo(
                "Đã dừng theo yêu cầu; kết quả trước đó vẫn nguyên vẹn. / "
                "Interrupted; the previous outputs are untouched.",
                err=True,
            )
            sys.exit(EXIT_INTERRUPTED)
        except Exception as exc:
            known = explain(exc)
            if known is not None:
                click.echo(known.render(), err=True)
                sys.exit(known.exit_code)
            if debug:
                raise
            click.echo(
                f"Lỗi nội bộ / Internal error: {type(exc).__name__}: {redact(str(exc))}\n"
                "Kết quả trước đó vẫn nguyên vẹn. / The previous outputs are untouched.\n"
                "Chạy lại với --debug để xem chi tiết và báo lỗi. / "
                "Run again with --debug for details and report it.",
                err=True,
            )
            sys.exit(EXIT_INTERNAL)

    return wrapper
