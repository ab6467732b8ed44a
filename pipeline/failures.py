"""Everyday failures of the machine, told apart from bugs of the pipeline.

A full disk, a read-only file system, a folder without write permission, a
database server that went away, a deadlock or a lock that was not granted are
not bugs: the user (or an administrator) can fix them and run again. Each is
turned here into a :class:`~pipeline.errors.GeoparkError` (exit code 2) that
names the path or the server, says what is wrong and how to fix it, in
Vietnamese and English. Anything else stays an internal error (exit code 3):
:func:`explain` returns ``None`` for it.

The mapping lives in one place, used by

* :func:`pipeline.cli.common.fails_well`, for every command (``OSError`` by
  ``errno``, database errors by SQLSTATE);
* :func:`writing_to`, around the code that writes a folder of outputs: GDAL and
  SQLite report a full disk or a read-only file system without an ``errno``
  or a path, so the folder being written is named from there, and probed while
  the failed write's files are still there (inside the staging context);
* :func:`on_server`, around the code that talks to a database, which names the
  server (the driver's errors do not) without its password;
* :func:`target_error`, for a step that handles its own database errors and
  says what it was doing (:data:`PUBLISH`: the publish's lock wait setting, and
  "nothing was replaced").

One table (:data:`_SQLSTATES`) maps every SQLSTATE; a :class:`DatabaseStep`
words it for the step and may explain a state better (its ``specific``).

No message ever carries an SQL statement: only the first line of the server's
own message is shown, with any password removed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import DatabaseError, FileSystemError, GeoparkError

# --------------------------------------------------------------------------- file system

#: errno -> (what is wrong in Vietnamese, in English, fix in Vietnamese, in English)
_OS_ERRORS: dict[int, tuple[str, str, str, str]] = {
    errno.ENOSPC: (
        "ổ đĩa đã đầy",
        "the disk is full",
        "giải phóng dung lượng trên ổ đĩa này (hoặc đặt [outputs] directory sang ổ khác) "
        "rồi chạy lại",
        "free some space on that disk (or point [outputs] directory to another disk) and run again",
    ),
    errno.EDQUOT: (
        "đã hết hạn mức đĩa (quota) của người dùng",
        "the user's disk quota is exhausted",
        "xóa bớt tệp hoặc xin quản trị viên tăng hạn mức, rồi chạy lại",
        "delete some files or ask the administrator to raise the quota, then run again",
    ),
    errno.EROFS: (
        "hệ thống tệp chỉ cho đọc",
        "the file system is read-only",
        "ghi vào một thư mục có thể ghi (sửa [outputs] directory trong geopark.toml) "
        "hoặc gắn lại ổ ở chế độ đọc-ghi",
        "write to a writable folder (set [outputs] directory in geopark.toml) "
        "or remount the disk read-write",
    ),
    errno.EACCES: (
        "không có quyền truy cập",
        "permission denied",
        "cấp quyền cho người dùng này (chmod/chown) hoặc chọn thư mục khác",
        "give this user access (chmod/chown) or choose another folder",
    ),
    errno.EPERM: (
        "thao tác không được phép",
        "the operation is not permitted",
        "cấp quyền cho người dùng này (chmod/chown, thuộc tính bất biến) hoặc chọn thư mục khác",
        "give this user access (chmod/chown, immutable attribute) or choose another folder",
    ),
    errno.EIO: (
        "thiết bị lưu trữ từ chối ghi hoặc báo lỗi vào/ra",
        "the storage refused the write or reported an input/output error",
        "kiểm tra ổ đĩa hoặc ổ mạng (còn chỗ trống, còn kết nối) rồi chạy lại",
        "check the disk or network drive (free space, still connected), then run again",
    ),
    errno.ENOTDIR: (
        "một phần của đường dẫn là tệp, không phải thư mục",
        "a part of the path is a file, not a folder",
        "sửa đường dẫn trong geopark.toml hoặc đổi tên tệp đó",
        "correct the path in geopark.toml or rename that file",
    ),
    errno.EISDIR: (
        "đường dẫn là một thư mục, không phải tệp",
        "the path is a folder, not a file",
        "chỉ đến một tệp (không phải thư mục)",
        "name a file, not a folder",
    ),
}

#: What GDAL and SQLite say, lower-cased, when the file system refuses a write.
_MESSAGES: list[tuple[str, int]] = [
    ("no space left on device", errno.ENOSPC),
    ("database or disk is full", errno.ENOSPC),
    ("disk quota exceeded", errno.EDQUOT),
    ("read-only file system", errno.EROFS),
    ("attempt to write a readonly database", errno.EROFS),
    ("permission denied", errno.EACCES),
    ("disk i/o error", errno.EIO),
    ("input/output error", errno.EIO),
]


#: Less free space than this after a failed write means the write failed for want of it
#: (one run's outputs take several MiB).
NEARLY_FULL_BYTES = 1 << 20


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it was raised from or during."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def os_reason(code: int) -> tuple[str, str]:
    """What ``errno`` ``code`` means, in Vietnamese and English."""
    if code in _OS_ERRORS:
        return _OS_ERRORS[code][0], _OS_ERRORS[code][1]
    return os.strerror(code), os.strerror(code)


def file_system_error(code: int, path: str | os.PathLike[str] | None) -> FileSystemError | None:
    """The bilingual error for ``errno`` ``code`` on ``path``, or ``None`` if it is no
    everyday failure (``ENOENT``, ``EEXIST``, ... can be bugs)."""
    if code not in _OS_ERRORS:
        return None
    what_vi, what_en, fix_vi, fix_en = _OS_ERRORS[code]
    where = str(path) if path else None
    return FileSystemError(
        f"{what_vi}: {where}" if where else what_vi,
        f"{what_en}: {where}" if where else what_en,
        file=where,
        fix=fix_en,
        fix_vi=fix_vi,
        details=[f"{errno.errorcode.get(code, code)}: {os.strerror(code)}"],
    )


def _os_error(exc: BaseException, default_path: Path | None) -> FileSystemError | None:
    """From an ``OSError`` raised, or explicitly re-raised as ``exc`` (``raise ... from``);
    not from one merely being handled when ``exc`` happened, which may be a bug."""
    link: BaseException | None = exc
    while link is not None:
        if isinstance(link, OSError) and link.errno is not None:
            return file_system_error(link.errno, link.filename or default_path)
        link = link.__cause__
    return None


def _library_io_error(exc: BaseException, directory: Path) -> FileSystemError | None:
    """A GDAL or SQLite write failure, which carries no errno: read its message, then
    look at the folder itself."""
    if not _is_io_library_error(exc):
        return None
    text = " ".join(str(link) for link in _chain(exc)).lower()
    for marker, code in _MESSAGES:
        if marker in text:
            return file_system_error(code, directory)
    code = _probe(directory)
    if code is not None:
        return file_system_error(code, directory)
    if any(type(link).__name__ == "CPLE_FileIOError" for link in _chain(exc)):
        # GDAL says the file system refused the write without saying why
        return file_system_error(errno.EIO, directory)
    return None


def _is_io_library_error(exc: BaseException) -> bool:
    """Raised by GDAL (through pyogrio) or SQLite, the libraries that write files."""
    return type(exc).__module__.split(".")[0] in {"pyogrio", "sqlite3", "osgeo"}


def _probe(directory: Path) -> int | None:
    """The errno the file system gives for a small write in ``directory``, if any."""
    folder = next((p for p in (directory, *directory.parents) if p.is_dir()), None)
    if folder is None:
        return None
    stats = os.statvfs(folder)
    if stats.f_flag & os.ST_RDONLY:
        return errno.EROFS
    if stats.f_bavail * stats.f_frsize < NEARLY_FULL_BYTES:
        return errno.ENOSPC
    try:
        with tempfile.TemporaryFile(dir=folder) as handle:
            handle.write(b"\0" * 65536)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        return exc.errno if exc.errno in _OS_ERRORS else None
    return None


@contextlib.contextmanager
def writing_to(directory: Path) -> Iterator[None]:
    """Turn a failed write in ``directory`` (disk full, read-only, no permission)
    into a :class:`~pipeline.errors.FileSystemError` naming it; let bugs through."""
    try:
        yield
    except GeoparkError:
        raise
    except Exception as exc:
        known = _os_error(exc, directory) or _library_io_error(exc, Path(directory))
        if known is None:
            raise
        raise known from exc


# --------------------------------------------------------------------------- database


@dataclass(frozen=True)
class Failure:
    """What a database failure means and how to fix it, in Vietnamese and English.

    The texts may name the step that failed: ``{subject_vi}``/``{subject_en}``
    (``lần chạy``/``the run``) and ``{unchanged_en}`` (``nothing was changed``)
    are filled in from its :class:`DatabaseStep`.
    """

    what_vi: str
    what_en: str
    fix_vi: str
    fix_en: str
    #: The configuration key at fault, named as the error's field.
    setting: str | None = None

    def worded(self, step: DatabaseStep) -> Failure:
        words = {
            "subject_vi": step.subject_vi,
            "subject_en": step.subject_en,
            "unchanged_en": step.unchanged_en,
        }
        return Failure(
            self.what_vi.format(**words),
            self.what_en.format(**words),
            self.fix_vi.format(**words),
            self.fix_en.format(**words),
            self.setting,
        )


@dataclass(frozen=True)
class DatabaseStep:
    """What the pipeline was doing on the database when it failed, so that the
    message says so.

    Parameters
    ----------
    subject_vi, subject_en
        What collided or was cancelled (``lần xuất bản``/``the publish``).
    unchanged_en
        What the rollback left alone (``nothing was replaced``).
    specific
        SQLSTATE -> :class:`Failure` that this step explains better than the
        common table (looked up first).
    otherwise
        Any other database error during this step, or ``None``: a bug (exit 3).
        Its ``what_en`` is followed by the server's own first line.
    """

    subject_vi: str = "lần chạy"
    subject_en: str = "the run"
    unchanged_en: str = "nothing was changed"
    specific: Mapping[str, Failure] = field(default_factory=dict)
    otherwise: Failure | None = None


#: Any command talking to a database (``on_server``, ``explain``).
ANY_STEP = DatabaseStep()

#: The connection was lost: the server restarted, the backend was terminated, the
#: network failed (SQLSTATE class 08, 57P.., or an invalidated connection).
LOST = "lost"

#: SQLSTATE (or its two-character class, or :data:`LOST`) -> what it means.
_SQLSTATES: dict[str, Failure] = {
    "40P01": Failure(
        "{subject_vi} va chạm với một giao dịch khác (deadlock); chưa thay gì",
        "{subject_en} collided with another transaction (deadlock); {unchanged_en}",
        "chạy lại; nếu lặp lại, tìm phiên đang giữ khóa (pg_stat_activity, pg_locks)",
        "run again; if it repeats, find the session holding the locks (pg_stat_activity, pg_locks)",
    ),
    "40001": Failure(
        "giao dịch xung đột với một giao dịch khác (serialization); chưa thay gì",
        "the transaction conflicted with another one (serialization failure); {unchanged_en}",
        "chạy lại",
        "run again",
    ),
    "55P03": Failure(
        "không lấy được khóa trong thời gian chờ (lock_timeout); chưa thay gì",
        "a lock was not granted within the lock timeout; {unchanged_en}",
        "chạy lại khi phiên đang giữ bảng đã xong (xem pg_stat_activity, pg_locks), "
        "hoặc tăng lock_timeout",
        "run again when the session holding the table has finished "
        "(see pg_stat_activity, pg_locks), or raise lock_timeout",
    ),
    "57014": Failure(
        "máy chủ đã hủy câu lệnh (statement_timeout hoặc quản trị viên); chưa thay gì",
        "the server cancelled a statement (statement_timeout or an administrator); {unchanged_en}",
        "chạy lại; nếu lặp lại, nhờ quản trị viên tăng statement_timeout cho vai trò này",
        "run again; if it repeats, ask the administrator to raise statement_timeout for this role",
    ),
    "53": Failure(
        "máy chủ cơ sở dữ liệu thiếu tài nguyên (đĩa, bộ nhớ hoặc số kết nối); chưa thay gì",
        "the database server is out of resources (disk, memory or connections); {unchanged_en}",
        "nhờ quản trị viên cơ sở dữ liệu giải phóng tài nguyên, rồi chạy lại",
        "ask the database administrator to free resources, then run again",
    ),
    "28": Failure(
        "máy chủ từ chối đăng nhập",
        "the server refused the login",
        "kiểm tra tên người dùng và mật khẩu trong ~/.pgpass hoặc pg_service.conf",
        "check the user name and the password in ~/.pgpass or pg_service.conf",
    ),
    LOST: Failure(
        "mất kết nối với máy chủ cơ sở dữ liệu giữa chừng; chưa thay gì "
        "(máy chủ hủy giao dịch dở dang)",
        "the connection to the database server was lost mid-way; {unchanged_en} "
        "(the server rolls back the unfinished transaction)",
        "kiểm tra máy chủ đang chạy và mạng ổn định, rồi chạy lại",
        "check that the server is running and the network is stable, then run again",
    ),
}

#: Publishing (:func:`pipeline.db.publish.publish`): one transaction that
#: replaces the published rows; after taking the publish lock its lock waits
#: are bounded by ``database.swap_lock_timeout_s`` (readers keeping a table
#: whose definition changed), and whatever else the database refuses is
#: reported, never a traceback.
PUBLISH = DatabaseStep(
    subject_vi="lần xuất bản",
    subject_en="the publish",
    unchanged_en="nothing was replaced",
    specific={
        "55P03": Failure(
            "bảng đang bị giữ quá lâu khi cần đổi định nghĩa; chưa thay gì",
            "a table whose definition changed was kept busy too long; nothing was replaced",
            "chạy lại khi ít người đang mở các lớp (hoặc tăng database.swap_lock_timeout_s)",
            "run again when fewer people have the layers open "
            "(or raise database.swap_lock_timeout_s)",
            setting="database.swap_lock_timeout_s",
        ),
    },
    otherwise=Failure(
        "cơ sở dữ liệu từ chối lần xuất bản; chưa thay gì",
        "the database refused the publish",
        "xem thông báo; nếu mất kết nối, chạy lại",
        "check the message; if the connection was lost, run again",
    ),
)


def _failure(state: str, lost: bool, step: DatabaseStep) -> Failure | None:
    """What SQLSTATE ``state`` means during ``step``: the step's own words first,
    then the common table by state and by class, then the step's catch-all."""
    keys = [state, state[:2]] if state else []
    if lost:
        keys.append(LOST)
    for table in (step.specific, _SQLSTATES):
        for key in keys:
            if key in table:
                return table[key].worded(step)
    return step.otherwise.worded(step) if step.otherwise else None


def _driver_error(exc: BaseException) -> BaseException | None:
    """The psycopg error behind ``exc`` (SQLAlchemy wraps it in ``orig``)."""
    for link in _chain(exc):
        orig = getattr(link, "orig", None)
        candidate = orig if orig is not None else link
        if type(candidate).__module__.startswith("psycopg"):
            return candidate
    return None


def _first_line(error: BaseException, secrets: Iterable[str]) -> str:
    """The server's own message, first line only: never the statement."""
    diag = getattr(error, "diag", None)
    message = getattr(diag, "message_primary", None) if diag is not None else None
    if not message:
        lines = str(error).strip().splitlines()
        message = lines[0] if lines else type(error).__name__
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return message


def database_error(
    exc: BaseException,
    server: str | None,
    secrets: Iterable[str] = (),
    step: DatabaseStep = ANY_STEP,
) -> DatabaseError | None:
    """The bilingual error for a database failure that is no bug, or ``None``.

    Parameters
    ----------
    exc
        A psycopg error, or an SQLAlchemy one wrapping it.
    server
        How to name the server (``host:port/database``), never with a password.
    secrets
        Strings (passwords) to remove from the server's message.
    step
        What the pipeline was doing (:data:`PUBLISH`, ...), to word the message.
    """
    error = _driver_error(exc)
    if error is None:
        return None
    state = getattr(error, "sqlstate", None) or ""
    invalidated = any(getattr(link, "connection_invalidated", False) for link in _chain(exc))
    lost = (
        invalidated
        or state[:2] == "08"
        or state.startswith("57P")
        # a libpq failure without SQLSTATE: the server closed the connection or is gone
        or (not state and type(error).__name__ == "OperationalError")
    )
    failure = _failure(state, lost, step)
    if failure is None:
        return None
    reason = _first_line(error, secrets)
    return DatabaseError(
        failure.what_vi,
        f"{failure.what_en}: {reason}",
        field=failure.setting,
        server=server,
        fix=failure.fix_en,
        fix_vi=failure.fix_vi,
    )


def server_name(target: Any) -> str:
    """``host:port/database`` of a connection target, never its password.

    ``target`` is a :class:`pipeline.db.connection.Target`; a service or the PG*
    variables are named as such, with the host, port and database they give.
    """
    url = target.url
    env = os.environ
    if getattr(target, "service", None):
        return f"service={target.service}"
    host = url.host or env.get("PGHOST") or "localhost"
    port = url.port or env.get("PGPORT") or 5432
    database = url.database or env.get("PGDATABASE") or url.username or env.get("PGUSER") or "?"
    return f"{host}:{port}/{database}"


def _secrets(target: Any) -> list[str]:
    found = [
        target.url.password or "",
        os.environ.get("PGPASSWORD", ""),
        *getattr(target, "secrets", ()),
    ]
    return [s for s in found if s]


def target_error(
    exc: BaseException, target: Any, step: DatabaseStep = ANY_STEP
) -> DatabaseError | None:
    """:func:`database_error` for a failure on ``target``'s server (a
    :class:`pipeline.db.connection.Target`), naming it without its password."""
    return database_error(exc, server_name(target), _secrets(target), step)


@contextlib.contextmanager
def on_server(target: Any) -> Iterator[None]:
    """Name ``target``'s server in every database error raised inside, and turn the
    everyday ones (connection lost, deadlock, lock timeout, ...) into a
    :class:`~pipeline.errors.DatabaseError`; let bugs through."""
    server = server_name(target)
    try:
        yield
    except DatabaseError as exc:
        if exc.server is None:
            exc.server = server
        raise
    except GeoparkError:
        raise
    except Exception as exc:
        known = target_error(exc, target)
        if known is None:
            raise
        raise known from None


# --------------------------------------------------------------------------- every command


def explain(exc: BaseException) -> GeoparkError | None:
    """The everyday failure behind ``exc``, or ``None`` when it is a bug."""
    if isinstance(exc, GeoparkError):
        return exc
    known = _os_error(exc, None)
    if known is not None:
        return known
    return database_error(exc, None, [os.environ.get("PGPASSWORD", "")])
