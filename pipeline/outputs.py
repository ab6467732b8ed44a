"""Write the products of a run: GeoPackage, web GeoJSON, QA report, manifest.

Nothing is half-written, and one rename makes a new set visible. Every file of
a set is written into a staging folder, flushed to disk, and the folder becomes
a version under ``.sets/``; one :func:`os.replace` of the symbolic link
``.sets/current`` then switches every user-visible path (themselves symbolic
links through ``current``) to the new version at once (:class:`OutputSet`).
A kill at any instant leaves the complete previous set or the complete new one.
Each set has a manifest listing every file with its SHA-256; :func:`verify_set`
refuses a set whose files do not match it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from pipeline.crs import to_crs
from pipeline.parallel import ForkedCall, second_process
from pipeline.progress import Advance, no_advance

#: Layers of the GeoPackage, in the order they are written, with their geometry type.
GPKG_LAYERS: dict[str, str] = {
    "park_extent": "MultiPolygon",
    "districts": "MultiPolygon",
    "geosites": "Point",
    "survey_points": "Point",
    "zone_i": "MultiPolygon",
    "zone_ii": "MultiPolygon",
    "protection_zones": "MultiPolygon",
    "protection_zones_detailed": "MultiPolygon",
    "boundary_markers": "Point",
    "clusters": "MultiPolygon",
    "zone_district_areas": "MultiPolygon",
    "zone_proposals": "MultiPolygon",  # each unit's proposal, before hand adjustments
    "geosite_extents": "MultiLineString",  # outlines of the geosite extents (input)
    "qa_findings": "Point",
    "quarantine": "Point",
    # threat layers and their conflicts with the zones
    "threat_areas": "MultiPolygon",
    "threat_lines": "MultiLineString",
    "threat_points": "MultiPoint",
    "conflicts": "Point",
    # non-spatial (GeoPackage attributes tables): the Brilha (2016) assessment
    "geosite_assessment": "None",
    "geosite_assessment_criteria": "None",
    "geosite_risk_computed": "None",
}


#: Layers of the edits GeoPackage (``[edits]``), which no run writes.
EDITS_LAYERS: dict[str, str] = {"zone_adjustments": "MultiPolygon"}


def _for_gdal(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Column types GDAL writes cleanly (dates as dates, no Python objects)."""
    out = frame.copy()
    geometry = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for col in out.columns:
        if col == geometry:
            continue
        series = out[col]
        if series.dtype == object:
            sample = series.dropna()
            kind = pd.api.types.infer_dtype(sample, skipna=True)  # one pass in C
            if len(sample) and (
                kind in ("date", "datetime", "datetime64", "time")
                or (
                    kind == "mixed"
                    and all(hasattr(v, "isoformat") and not isinstance(v, str) for v in sample)
                )
            ):
                out[col] = pd.to_datetime(series, errors="coerce").astype("datetime64[ms]")
            else:
                out[col] = series.astype("string")
        elif str(series.dtype) == "string":
            out[col] = series.astype(object).where(series.notna(), None)
    return out


def write_geopackage(
    layers: Mapping[str, gpd.GeoDataFrame],
    path: Path,
    geometry_types: Mapping[str, str] = GPKG_LAYERS,
    advance: Advance = no_advance,
) -> None:
    """Write ``layers`` into the GeoPackage at ``path`` (a layer of the same name is replaced).

    ``geometry_types`` gives each layer's geometry type (default: the run's layers);
    ``advance`` is told of each layer's features once they are written.
    """
    for name, frame in layers.items():
        geometry_type = geometry_types.get(name, "Unknown")
        frame = _for_gdal(frame)
        if not isinstance(frame, gpd.GeoDataFrame):
            # a table without geometry: GDAL writes it as a GeoPackage attributes table
            pyogrio.write_dataframe(
                frame,
                path,
                layer=name,
                driver="GPKG",
                layer_options={"FID": "fid"},
                use_arrow=True,
            )
            advance(len(frame))
            continue
        pyogrio.write_dataframe(
            frame,
            path,
            layer=name,
            driver="GPKG",
            geometry_type=geometry_type,
            promote_to_multi=geometry_type.startswith("Multi"),
            layer_options={"SPATIAL_INDEX": "YES", "FID": "fid"},
            # GDAL's Arrow batches write a million survey points in half the time
            use_arrow=True,
        )
        advance(len(frame))


class LayersInAdvance:
    """Layers of a GeoPackage written ahead, in a forked process, while the run goes on.

    A million survey points take GDAL about ten seconds to write with their
    R-tree, and they are known once the inputs are read: they are written into
    ``path`` (a file in a held staging folder) while this process zones. At
    write time :meth:`take` waits for them, moves the file into the set's
    staging folder and says which layers are still to be written. A layer
    changed since it was handed over (another object, other columns or rows)
    is written again, so the GeoPackage always holds what the run computed.
    With one CPU nothing is written ahead.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handed: dict[str, tuple[gpd.GeoDataFrame, list[str], int]] = {}
        self._call: ForkedCall | None = None

    def start(self, layers: Mapping[str, gpd.GeoDataFrame]) -> bool:
        """Begin writing ``layers`` into :attr:`path`; False when there is no second CPU
        to do it on (they are then written with the rest)."""
        if not second_process() or not layers:
            return False
        self._handed = {
            name: (frame, list(frame.columns), len(frame)) for name, frame in layers.items()
        }
        # needed only at the end of the run: the zoning's threads go first
        self._call = ForkedCall(write_geopackage, dict(layers), self.path, niceness=10)
        return True

    def take(
        self, layers: Mapping[str, gpd.GeoDataFrame], path: Path, advance: Advance = no_advance
    ) -> dict[str, gpd.GeoDataFrame]:
        """Wait for the layers written ahead and move their file to ``path``.

        Returns the layers of ``layers`` that are still to be written there.
        """
        if self._call is None:
            return dict(layers)
        call, self._call = self._call, None
        call.wait()
        shutil.move(self.path, path)
        done = {
            name
            for name, (frame, columns, rows) in self._handed.items()
            if layers.get(name) is frame and list(frame.columns) == columns and len(frame) == rows
        }
        advance(sum(len(layers[name]) for name in done))
        return {name: frame for name, frame in layers.items() if name not in done}

    def stop(self) -> None:
        """Stop writing ahead (the run failed); the held folder goes with its owner."""
        if self._call is not None:
            self._call.stop()
            self._call = None


@contextlib.contextmanager
def layers_in_advance(store: Path, name: str) -> Iterator[LayersInAdvance]:
    """A :class:`LayersInAdvance` writing ``name`` in a folder of its own in ``store``.

    The folder is made and locked while the store's lock is held, the lock
    every cleaner takes, so a folder no living process holds is known at once,
    whatever its age, and removed here: a failing run, which never commits to
    ``store``, leaves nothing in it.
    """
    store.mkdir(parents=True, exist_ok=True)
    with _exclusive(store / LOCK):
        for item in store.glob(f"{AHEAD_PREFIX}*"):
            if _abandoned(item):
                _remove(item)
        folder, fd = _new_held_folder(store, AHEAD_PREFIX)
    try:
        ahead = LayersInAdvance(folder / name)
        try:
            yield ahead
        finally:
            ahead.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)


def write_geojson_wgs84(frame: gpd.GeoDataFrame, path: Path) -> None:
    """RFC 7946 GeoJSON in WGS 84, transformed through the EPSG operation."""
    out = _for_gdal(to_crs(frame, "EPSG:4326"))
    pyogrio.write_dataframe(
        out,
        path,
        driver="GeoJSON",
        layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": "7", "WRITE_NAME": "NO"},
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value)}")


def dump_json(data: Any, path: Path) -> None:
    path.write_text(
        json.dumps(data, ensure_ascii=False, indent=2, default=_json_default) + "\n", "utf-8"
    )


# --------------------------------------------------------------------------- durability


def fsync_path(path: Path) -> None:
    """Flush one file or folder to disk (a folder: the names in it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Flush every file and folder under ``root`` (deepest first), ``root`` last."""
    for folder, _, files in os.walk(root, topdown=False):
        for name in files:
            fsync_path(Path(folder) / name)
        fsync_path(Path(folder))


@contextlib.contextmanager
def edited_copy(path: Path, prefix: str) -> Iterator[Path]:
    """A copy of the file ``path`` to change, moved over it only when the block ends well.

    The copy lies beside ``path`` (same file system, so the move is one
    :func:`os.replace`) and is flushed to disk first; a block that raises, or
    a process killed inside it, leaves ``path`` as it was. When ``path`` does
    not exist yet, the block starts from no file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=path.suffix, dir=path.parent)
    os.close(handle)
    copy = Path(name)
    try:
        if path.exists():
            shutil.copy2(path, copy)
        else:
            copy.unlink()
        yield copy
        fsync_path(copy)
        os.replace(copy, path)
        fsync_path(path.parent)
    finally:
        copy.unlink(missing_ok=True)


def commit_point(step: str) -> None:
    """A named step of a commit; test support only.

    When the environment variable ``GEOPARK_TEST_KILL_AT`` names this step the
    process kills itself (SIGKILL, no clean-up), so the tests can prove that
    a kill at exactly this instant leaves a complete set. Nothing else reads it.
    """
    if step in os.environ.get("GEOPARK_TEST_KILL_AT", "").split(","):
        os.kill(os.getpid(), signal.SIGKILL)


@contextlib.contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` (released by the kernel if killed)."""
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _scanning(place: Path) -> Iterator[None]:
    """Hold the lock of the folder ``place`` itself.

    Whoever makes a staging folder or a temporary link in ``place`` (and locks or
    renames it), and whoever judges what in ``place`` is debris, does it under
    this lock, so nothing is ever judged between its birth and its lock. Several
    sets may clean the same folder (the main outputs and the dossiers both look
    at ``data/processed``), which is why the lock is the folder's, not a set's.
    A set's own lock (``<store>/.lock``) is always taken first.
    """
    fd = _hold(place)
    try:
        yield
    finally:
        os.close(fd)


def _hold(folder: Path) -> int:
    """Lock ``folder`` for as long as the returned descriptor is open: it is in use."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _abandoned(folder: Path) -> bool:
    """True when no living process holds ``folder`` (its writer died or finished)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def _leftover(item: Path) -> bool:
    """A staging folder or temporary link that a killed run left behind.

    Only for a caller holding the lock of the folder ``item`` is in (the
    store's ``.lock`` for the store, :func:`_scanning` for any other folder):
    staging folders are made and locked, and temporary links made and renamed,
    under that lock, so what such a caller sees unheld is debris, however young.
    """
    return item.is_symlink() or _abandoned(item)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def _new_held_folder(parent: Path, prefix: str) -> tuple[Path, int]:
    """A new folder, readable as the user's umask allows (as the outputs must be),
    and the descriptor holding it (:func:`_hold`). Call it under the lock of
    ``parent`` (see :func:`_leftover`)."""
    folder = parent / f"{prefix}{secrets.token_hex(8)}"
    folder.mkdir()
    return folder, _hold(folder)


def _set_id() -> str:
    """A new set's folder name: sortable by time, unique across processes."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{os.getpid()}-{secrets.token_hex(3)}"


def _symlink_over(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` in one rename (a new link under a temporary name)."""
    temporary = link.with_name(f"{TEMPORARY_PREFIX}{secrets.token_hex(6)}")
    os.symlink(target, temporary)
    os.replace(temporary, link)


# --------------------------------------------------------------------------- output sets

#: Name of the hidden folder beside the outputs that holds the versions of a set.
SETS = ".sets"
#: The symbolic link, inside the sets folder, naming the visible version.
CURRENT = "current"
#: The file every writer and cleaner of a store locks (:func:`_exclusive`).
LOCK = ".lock"
STAGING_PREFIX = ".staging-"
#: Files SQLite keeps beside an open database; not part of a set.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
TEMPORARY_PREFIX = ".tmp-"
#: Folders of GeoPackage layers written ahead (:func:`layers_in_advance`).
AHEAD_PREFIX = f"{STAGING_PREFIX}ahead-"


@dataclass(frozen=True)
class OutputSet:
    """A set of files that becomes visible all at once, by one rename.

    Each version of the set is written complete into a staging folder, flushed
    to disk and renamed to ``<store>/<set id>/``; then the symbolic link
    ``<store>/current`` is replaced (one :func:`os.replace`) to point at it.
    The paths people use are symbolic links through ``current`` made once:

    * files mode (``whole_folder=False``): ``<root>/<name>`` →
      ``.sets/current/<name>`` for each top-level file or folder of the set,
      the store being ``<root>/.sets``;
    * whole-folder mode: ``<root>`` itself → ``.<root name>.sets/current``.

    A kill at any instant leaves ``current`` on the complete previous version or
    the complete new one. A process that holds a file of an old version open
    keeps reading it; the version just replaced stays on disk for readers that
    resolved the link just before the swap, older ones are removed.
    Staging folders of killed runs are removed at the start of the next run.
    """

    root: Path
    whole_folder: bool = False

    @property
    def store(self) -> Path:
        if self.whole_folder:
            return self.root.parent / f".{self.root.name}{SETS}"
        return self.root / SETS

    @property
    def current_link(self) -> Path:
        return self.store / CURRENT

    def current(self) -> Path | None:
        """The visible version's folder (resolved), or None before the first commit."""
        if not self.current_link.is_symlink():
            return None
        folder = self.current_link.resolve()
        return folder if folder.is_dir() else None

    @property
    def _user_folder(self) -> Path:
        """The folder of the paths people use (its temporary links are the set's)."""
        return self.root.parent if self.whole_folder else self.root

    def _lock(self) -> contextlib.AbstractContextManager[None]:
        return _exclusive(self.store / LOCK)

    def clean(self) -> list[Path]:
        """Remove what killed runs left: staging folders, temporary links, ``*.old`` folders.

        Folders still held by a living process (another run writing) are kept.
        """
        removed = []
        self.store.mkdir(parents=True, exist_ok=True)
        with self._lock(), _scanning(self._user_folder):
            for place in (self.store, self._user_folder):
                for item in sorted(place.iterdir()):
                    name = item.name
                    if name.startswith((TEMPORARY_PREFIX, STAGING_PREFIX)) and _leftover(item):
                        removed.append(item)
                    elif place != self.store and name.startswith(".") and name.endswith(".old"):
                        removed.append(item)  # left by the folder swap of earlier versions
        for item in removed:
            _remove(item)
        return removed

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A new, empty staging folder in the store; removed unless committed."""
        self.clean()
        with self._lock():
            folder, fd = _new_held_folder(self.store, STAGING_PREFIX)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)  # gone already once committed
            os.close(fd)

    def _links(self, names: list[str]) -> dict[Path, str]:
        """Each user-visible path and the relative target of its symbolic link."""
        if self.whole_folder:
            return {self.root: f"{self.store.name}/{CURRENT}"}
        return {self.root / name: f"{SETS}/{CURRENT}/{name}" for name in names}

    def _adopt_legacy(self, links: dict[Path, str]) -> None:
        """Turn real files left at the user paths (by older versions) into a first version.

        Before any ``current`` exists, the files at the user paths become the
        visible version (hard links, same bytes), so that replacing each of them
        by its symbolic link changes nothing a reader sees.
        """
        legacy = [path for path in links if path.exists() and not path.is_symlink()]
        if not legacy or self.current() is not None:
            return
        adopted = self.store / f"{_set_id()}-legacy"
        adopted.mkdir()
        for path in legacy:
            target = adopted if self.whole_folder else adopted / path.name
            if path.is_dir():
                shutil.copytree(path, target, copy_function=os.link, dirs_exist_ok=True)
            else:
                os.link(path, target)
        fsync_tree(adopted)
        fsync_path(self.store)
        _symlink_over(self.current_link, adopted.name)
        fsync_path(self.store)

    def _make_links(self, links: dict[Path, str]) -> None:
        for link, target in links.items():
            if link.is_symlink() and os.readlink(link) == target:
                continue
            if link.exists() and link.is_dir() and not link.is_symlink():
                # a real folder cannot be renamed over: move it aside first
                aside = self.store / f"{TEMPORARY_PREFIX}{secrets.token_hex(6)}.old"
                os.replace(link, aside)
                _symlink_over(link, target)
                shutil.rmtree(aside, ignore_errors=True)
            else:
                _symlink_over(link, target)
        fsync_path(self.root.parent if self.whole_folder else self.root)

    def _drop_stale_links(self, names: list[str]) -> None:
        """User paths that pointed at files the new version no longer has."""
        if self.whole_folder:
            return
        for item in self.root.iterdir():
            if (
                item.is_symlink()
                and item.name not in names
                and os.readlink(item).startswith(f"{SETS}/{CURRENT}/")
            ):
                item.unlink()

    def _collect(self, keep: set[str]) -> None:
        """Remove old versions (all but ``keep``) and abandoned staging folders."""
        for item in sorted(self.store.iterdir()):
            name = item.name
            if name in keep or name in (CURRENT, LOCK):
                continue
            if name.startswith((STAGING_PREFIX, TEMPORARY_PREFIX)) and not _leftover(item):
                continue
            _remove(item)

    def commit(self, staging: Path) -> Path:
        """Make the complete set in ``staging`` the visible one, by one rename.

        Returns the new version's folder.
        """
        names = sorted(item.name for item in staging.iterdir())
        fsync_tree(staging)
        commit_point("staged")
        with self._lock(), _scanning(self._user_folder):
            version = self.store / _set_id()
            os.rename(staging, version)
            fsync_path(self.store)
            commit_point("renamed")
            links = self._links(names)
            self._adopt_legacy(links)
            previous = self.current()
            self._make_links(links)
            commit_point("before-swap")
            _symlink_over(self.current_link, version.name)
            fsync_path(self.store)
            commit_point("after-swap")
            self._drop_stale_links(names)
            # the version just replaced stays for readers that resolved the link before
            self._collect({version.name} | ({previous.name} if previous else set()))
            fsync_path(self.store)
            commit_point("collected")
        return version


@contextlib.contextmanager
def staged_outputs(directory: Path) -> Iterator[Path]:
    """A staging folder inside ``directory`` for single files, removed whatever happens.

    Made and held under the folder's lock (:func:`_scanning`), so
    :meth:`OutputSet.clean` never takes it for the leftover of a killed run.
    """
    directory.mkdir(parents=True, exist_ok=True)
    with _scanning(directory):
        staging, fd = _new_held_folder(directory, STAGING_PREFIX)
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        os.close(fd)


def commit_outputs(staging: Path, directory: Path, order: list[str]) -> list[Path]:
    """Move single staged files into ``directory``, each in one rename, flushed to disk.

    For one file on its own (the web map); a set of files that belong together
    goes through :class:`OutputSet`.
    """
    moved = []
    for name in order:
        source = staging / name
        if source.exists():
            fsync_path(source)
            target = directory / name
            os.replace(source, target)
            moved.append(target)
    fsync_path(directory)
    return moved


def replace_directory(staging: Path, target: Path) -> Path:
    """Make the folder ``staging`` visible at ``target`` in one rename.

    ``target`` becomes a symbolic link to a version folder beside it (see
    :class:`OutputSet`, whole-folder mode). ``staging`` must be on the same file
    system; it is moved, not copied. Returns the version folder.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = OutputSet(target, whole_folder=True)
    with folder.staging() as stage:
        os.rmdir(stage)
        os.rename(staging, stage)
        return folder.commit(stage)


# --------------------------------------------------------------------------- manifests


def sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def set_files(folder: Path, *, exclude: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    """Every file under ``folder`` (relative POSIX path) with its SHA-256 and size."""
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if relative not in exclude:
            found[relative] = {"sha256": sha256(path), "bytes": path.stat().st_size}
    return found


@dataclass(frozen=True)
class VerifiedSet:
    """A set whose files were checked against its manifest.

    ``directory`` is the version folder itself (symbolic links resolved), so
    reading through it reads the very files that were checked, whatever swap
    happens meanwhile.
    """

    directory: Path
    manifest: dict[str, Any]
    manifest_sha256: str

    def path(self, name: str) -> Path:
        return self.directory / name


def verify_set(manifest_path: Path, *, fix: str, fix_vi: str) -> VerifiedSet:
    """Check every file of a set against its manifest (the ``outputs`` SHA-256s).

    Parameters
    ----------
    manifest_path
        The set's manifest as people see it (e.g. ``data/processed/run_manifest.json``).
    fix, fix_vi
        The command that makes a good set again (English, Vietnamese).

    Raises
    ------
    InputError
        When the manifest is missing or unreadable, or a file it lists is missing,
        differs (SHA-256, size), or the set has a file the manifest does not list.
    """
    from pipeline.errors import InputError

    def refuse(vi: str, en: str, file: Path, field: str | None = None) -> InputError:
        return InputError(vi, en, file=str(file), field=field, fix=fix, fix_vi=fix_vi)

    if not manifest_path.exists():
        raise refuse(
            f"chưa có bộ kết quả: thiếu {manifest_path.name}",
            f"no complete output set yet: {manifest_path.name} is missing",
            manifest_path,
        )
    real = manifest_path.resolve()
    directory = real.parent
    raw = real.read_bytes()
    try:
        manifest = json.loads(raw)
        listed = manifest["outputs"]
        if not isinstance(listed, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise refuse(
            f"{manifest_path.name} hỏng hoặc không liệt kê các tệp của bộ kết quả",
            f"{manifest_path.name} is damaged or does not list the files of its set",
            manifest_path,
            "outputs",
        ) from None
    for relative, expected in listed.items():
        path = directory / relative
        shown = manifest_path.parent / relative
        if not path.is_file():
            raise refuse(
                f"bộ kết quả không đầy đủ: thiếu tệp {relative} mà {manifest_path.name} liệt kê",
                f"the output set is incomplete: {relative}, listed in {manifest_path.name}, "
                "is missing",
                shown,
            )
        found = sha256(path)
        if found != expected.get("sha256"):
            raise refuse(
                f"tệp {relative} không khớp {manifest_path.name}: SHA-256 {found[:12]}…, "
                f"{path.stat().st_size} byte; bản kê ghi {str(expected.get('sha256'))[:12]}…, "
                f"{expected.get('bytes')} byte (tệp đã bị sửa hoặc lẫn từ lần chạy khác)",
                f"{relative} does not match {manifest_path.name}: SHA-256 {found[:12]}…, "
                f"{path.stat().st_size} bytes; the manifest says "
                f"{str(expected.get('sha256'))[:12]}…, {expected.get('bytes')} bytes "
                "(the file was changed or comes from another run)",
                shown,
                "sha256",
            )
    # a version folder holds its set and nothing else (a folder of an older
    # pipeline, with real files at the user paths, holds other things too)
    versioned = directory.parent.name.endswith(SETS)
    extra = versioned and sorted(
        name
        for name in set(set_files(directory, exclude=(real.name,))) - set(listed)
        # SQLite's own companions while a reader (QGIS) has a GeoPackage open
        if not name.endswith(SQLITE_COMPANIONS)
    )
    if extra:
        raise refuse(
            f"bộ kết quả có tệp không có trong {manifest_path.name}: {', '.join(extra)}",
            f"the output set has file(s) {manifest_path.name} does not list: {', '.join(extra)}",
            manifest_path.parent / extra[0],
        )
    return VerifiedSet(directory, manifest, hashlib.sha256(raw).hexdigest())


def run_geopackage_layers(path: Path, required: list[str] | tuple[str, ...]) -> set[str]:
    """The layer names of a run's GeoPackage, after checking it has ``required``.

    Raises
    ------
    InputError
        When the GeoPackage does not exist or lacks a required layer: both mean
        ``geopark zones`` has to run (again) first.
    """
    from pipeline.errors import InputError

    if not path.exists():
        raise InputError(
            f"chưa có GeoPackage {path}",
            f"the GeoPackage {path} does not exist yet",
            file=str(path),
            fix="run `geopark zones` (make zones) first",
            fix_vi="chạy `geopark zones` (make zones) trước",
        )
    present = {name for name, _ in pyogrio.list_layers(path)}
    missing = [name for name in required if name not in present]
    if missing:
        raise InputError(
            f"GeoPackage thiếu lớp {', '.join(missing)}",
            f"the GeoPackage lacks layer(s) {', '.join(missing)}",
            file=str(path),
            field=", ".join(missing),
            fix="run `geopark zones` again with this version of the pipeline",
            fix_vi="chạy lại `geopark zones` với phiên bản này của quy trình",
        )
    return present
