"""Errors the pipeline raises on purpose, each one bilingual and actionable.

Every error a user can cause (bad configuration, unreadable file, a row that
breaks its contract) is a :class:`GeoparkError`. The command line prints it
without a traceback and exits non-zero; anything else is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from dataclasses import field as dataclass_field
from typing import Any


@dataclass
class GeoparkError(Exception):
    """An error the user can fix.

    Parameters
    ----------
    message_vi, message_en
        What went wrong, in Vietnamese and in English.
    file
        The file at fault, when there is one.
    row
        The row (spreadsheet numbering: the header is row 1) or feature index.
    field
        The column, attribute or configuration key at fault.
    server
        The database server at fault (``host:port/database``, never a password).
    fix
        What to do about it (English; Vietnamese in ``fix_vi`` when given).
    """

    message_vi: str
    message_en: str
    file: str | None = None
    row: int | str | None = None
    field: str | None = None
    fix: str | None = None
    fix_vi: str | None = None
    exit_code: int = 2
    details: list[str] = dataclass_field(default_factory=list)
    server: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message_en)

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled whole: an error raised in a worker process reaches the user as it was
        return _rebuilt, (type(self), {f.name: getattr(self, f.name) for f in fields(self)})

    def __str__(self) -> str:
        return self.render()

    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(f"file/tệp: {self.file}")
        if self.row is not None:
            parts.append(f"row/dòng: {self.row}")
        if self.field:
            parts.append(f"field/trường: {self.field}")
        if self.server:
            parts.append(f"server/máy chủ: {self.server}")
        return ", ".join(parts)

    def render(self) -> str:
        lines = [f"Lỗi: {self.message_vi}", f"Error: {self.message_en}"]
        where = self.location()
        if where:
            lines.append(f"  ({where})")
        lines.extend(f"  - {d}" for d in self.details)
        if self.fix_vi:
            lines.append(f"Cách sửa: {self.fix_vi}")
        if self.fix:
            lines.append(f"Fix: {self.fix}")
        return "\n".join(lines)


def _rebuilt(cls: type[GeoparkError], values: dict[str, Any]) -> GeoparkError:
    return cls(**values)


class ConfigError(GeoparkError):
    """The configuration file is wrong: a key, a value or a path."""


class InputError(GeoparkError):
    """An input file cannot be used at all (as opposed to a rejected row)."""


class DatabaseError(GeoparkError):
    """The database cannot be used: connection, roles, a lock, a server that went away."""


class FileSystemError(GeoparkError):
    """A file or folder cannot be used: a full disk, a read-only file system, no permission."""
