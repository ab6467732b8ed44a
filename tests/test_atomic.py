"""Atomic output sets: a kill at any instant leaves the complete previous set or
the complete new one, and a set that does not match its manifest is refused.

The kills are aimed at the commit window: ``geopark zones`` / ``geopark maps``
run in a child process with ``GEOPARK_TEST_KILL_AT=<step>``, and
:func:`pipeline.outputs.commit_point` SIGKILLs the child at exactly that step
(after the set is written and flushed, after it is renamed into the store, just
before and just after the one rename that makes it visible). After every kill the visible set is checked file by file against
its manifest, and the next run must succeed and leave no debris.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyogrio
import pytest
from click.testing import CliRunner

from pipeline.cli.main import cli
from pipeline.config import load_config
from pipeline.errors import InputError
from pipeline.outputs import (
    OutputSet,
    commit_point,
    layers_in_advance,
    staged_outputs,
    verify_set,
)
from pipeline.run import run_zones

ROOT = Path(__file__).resolve().parents[1]
STEPS = ["staged", "renamed", "before-swap", "after-swap"]
#: Steps at which the new set is already the visible one.
VISIBLE_AFTER = {"after-swap"}


def _geopark(*args: str, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "GEOPARK_TEST_KILL_AT"}
    if kill_at:
        env["GEOPARK_TEST_KILL_AT"] = kill_at
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=900,
    )


def _wider_zone_i(raw) -> None:
    """Another configuration, so the new set differs from the previous one in every file."""
    raw["zoning"]["zone_i_distance_m"]["cave"] += 25


def _visible(cfg) -> dict:
    """The visible data set, checked file by file; returns its manifest."""
    verified = verify_set(cfg.output_path("manifest"), fix="-", fix_vi="-")
    for name in verified.manifest["outputs"]:
        # every user path leads to a file of that very version (sub-folders included)
        assert (cfg.outputs.directory / name).resolve() == verified.directory / name
    return verified.manifest


def _debris(root: Path) -> list[str]:
    """What a clean run must not leave: staging folders, temporary links, ``.old`` folders."""
    found = []
    for path in root.rglob("*"):
        name = path.name
        if name.startswith((".staging-", ".tmp-")) or name.endswith(".old"):
            found.append(str(path.relative_to(root)))
    return sorted(found)


def _leftover(folder: Path, *files: str) -> None:
    """A staging folder as a run killed a minute ago leaves it."""
    folder.mkdir()
    for name in files:
        (folder / name).write_bytes(b"half")
    a_minute_ago = time.time() - 60
    os.utime(folder, (a_minute_ago, a_minute_ago))


def _versions(store: Path) -> list[str]:
    return sorted(p.name for p in store.iterdir() if p.is_dir() and not p.is_symlink())


def test_commit_point_kills_only_at_its_step(monkeypatch) -> None:
    monkeypatch.setenv("GEOPARK_TEST_KILL_AT", "somewhere-else")
    commit_point("before-swap")  # still alive
    monkeypatch.delenv("GEOPARK_TEST_KILL_AT")
    commit_point("before-swap")


def test_only_what_dead_runs_left_is_cleaned(tmp_path) -> None:
    root = tmp_path / "out"
    output_set = OutputSet(root)
    root.mkdir()
    _leftover(root / ".staging-dead", "half.gpkg")
    with output_set.staging() as living:
        (living / "a.txt").write_text("a\n", "utf-8")
        a_minute_ago = time.time() - 60
        os.utime(living, (a_minute_ago, a_minute_ago))
        OutputSet(root).clean()  # as another run starting now would
        assert living.is_dir(), "a living run's staging folder is never removed"
        assert not (root / ".staging-dead").exists()
        version = output_set.commit(living)
    assert (root / "a.txt").read_text("utf-8") == "a\n"
    assert (root / "a.txt").resolve() == version / "a.txt"
    assert _debris(root) == []


def test_a_dead_runs_folder_is_debris_at_once_whatever_its_age(tmp_path) -> None:
    """Staging folders are born locked, so an unheld one is debris even if it is new."""
    root = tmp_path / "out"
    (root / ".sets").mkdir(parents=True)
    (root / ".sets" / ".staging-dead").mkdir()  # a run killed a moment ago
    (root / ".staging-dead").mkdir()  # a single-file staging killed a moment ago
    os.symlink("nowhere", root / ".tmp-link")  # a temporary link of a killed swap
    removed = OutputSet(root).clean()
    assert sorted(p.name for p in removed) == [".staging-dead", ".staging-dead", ".tmp-link"]
    assert _debris(root) == []


def _born_after_release(lock_path: Path, stage) -> None:
    """``stage`` (a context manager giving a new folder) run in a thread while the lock
    ``lock_path`` (a folder, or a lock file) is held as a cleaner holds it: its folder
    must not exist before the lock is released."""
    flags = os.O_RDONLY | os.O_DIRECTORY if lock_path.is_dir() else os.O_RDWR
    born = []

    def probe() -> None:
        with stage() as folder:
            born.append((time.monotonic(), folder.is_dir()))

    fd = os.open(lock_path, flags)
    fcntl.flock(fd, fcntl.LOCK_EX)
    worker = threading.Thread(target=probe)
    try:
        worker.start()
        time.sleep(0.3)
    finally:
        released = time.monotonic()
        os.close(fd)
    worker.join(timeout=30)
    ((at, made),) = born
    assert made and at >= released


def test_no_staging_folder_is_born_while_a_cleaner_looks(tmp_path) -> None:
    """Between a folder's birth and its lock, no cleaner can be looking at it."""
    single = tmp_path / "maps"
    single.mkdir()
    _born_after_release(single, lambda: staged_outputs(single))
    output_set = OutputSet(tmp_path / "out")
    output_set.clean()
    _born_after_release(output_set.store / ".lock", output_set.staging)
    store = tmp_path / "out" / ".sets"

    @contextlib.contextmanager
    def ahead_folder():
        with layers_in_advance(store, "geopark.gpkg") as ahead:
            yield ahead.path.parent

    _born_after_release(store / ".lock", ahead_folder)


def test_cleaners_of_a_shared_folder_never_take_a_living_runs_files(tmp_path) -> None:
    """The dossiers' set cleans the folder the main set links into and single files
    are staged in; hundreds of births, swaps and cleanings side by side lose nothing."""
    root = tmp_path / "processed"
    main, dossiers = OutputSet(root), OutputSet(root / "dossiers", whole_folder=True)
    stop, failures = threading.Event(), []

    def clean_forever() -> None:
        while not stop.is_set():
            dossiers.clean()

    def stage_and_commit() -> None:
        try:
            for i in range(150):
                with staged_outputs(root) as single:
                    (single / "web.html").write_text(str(i), "utf-8")
                    time.sleep(0.001)
                    assert (single / "web.html").read_text("utf-8") == str(i)
                with main.staging() as stage:
                    (stage / "a.txt").write_text(str(i), "utf-8")
                    main.commit(stage)
                assert (root / "a.txt").read_text("utf-8") == str(i)
        except Exception as error:
            failures.append(error)

    root.mkdir()
    cleaner = threading.Thread(target=clean_forever)
    cleaner.start()
    try:
        stage_and_commit()
    finally:
        stop.set()
        cleaner.join()
    assert failures == []
    assert _debris(root) == []


def test_zones_killed_at_every_commit_step_leaves_a_complete_set(write_config) -> None:
    old_cfg = load_config(write_config())
    run_zones(old_cfg)
    old = _visible(old_cfg)
    new_config = write_config(_wider_zone_i, name="wider.toml")
    new_cfg = load_config(new_config)
    assert new_cfg.outputs.directory == old_cfg.outputs.directory
    cave = new_cfg.zoning.zone_i_distance_m["cave"]

    for step in STEPS:
        before = _visible(old_cfg)
        killed = _geopark("zones", "--config", str(new_config), kill_at=step)
        assert killed.returncode == -signal.SIGKILL, (step, killed.stderr[-2000:])
        seen = _visible(old_cfg)  # complete and consistent, whichever it is
        if step in VISIBLE_AFTER:
            assert seen["configuration"]["zoning"]["zone_i_distance_m"]["cave"] == cave, step
            assert seen["outputs"] != old["outputs"], step
        else:
            assert seen == before, f"killed at {step}: the previous set must still be visible"
        # the GeoPackage people open is the one the manifest describes
        gpkg = old_cfg.outputs.directory / old_cfg.outputs.geopackage
        counts = {name: pyogrio.read_info(gpkg, layer=name)["features"] for name in seen["counts"]}
        assert counts == seen["counts"], step

    done = _geopark("zones", "--config", str(new_config))
    assert done.returncode == 0, done.stderr[-2000:]
    final = _visible(new_cfg)
    assert final["configuration"]["zoning"]["zone_i_distance_m"]["cave"] == cave
    assert _debris(new_cfg.outputs.directory) == []
    store = new_cfg.outputs.directory / ".sets"
    assert len(_versions(store)) <= 2, "old versions are collected (the previous one is kept)"


def test_failed_run_folder_is_swapped_whole(write_config, tmp_path) -> None:
    good = load_config(write_config())
    run_zones(good)
    published = _visible(good)
    bad_register = tmp_path / "geosites_bad.csv"
    text = (ROOT / "data/raw/geosites.csv").read_text("utf-8")
    bad_register.write_text(text.replace(",cave,national,", ",volcano,national,", 1), "utf-8")
    bad_config = write_config(
        lambda raw: raw["inputs"]["geosites"].update(path=str(bad_register)), name="bad.toml"
    )
    failed = good.outputs.failed_directory

    killed = _geopark("zones", "--config", str(bad_config), kill_at="before-swap")
    assert killed.returncode == -signal.SIGKILL
    assert not failed.exists(), "a failed-run folder appears whole or not at all"
    killed = _geopark("zones", "--config", str(bad_config), kill_at="after-swap")
    assert killed.returncode == -signal.SIGKILL
    first = json.loads((failed / "run_manifest.json").read_text("utf-8"))
    assert first["status"] == "fail"
    # every file of the manifest, sub-folders (the marker tables) included, and nothing else
    assert sorted(p.name for p in failed.iterdir()) == sorted(
        {name.split("/")[0] for name in first["outputs"]} | {"run_manifest.json"}
    )

    again = _geopark("zones", "--config", str(bad_config))
    assert again.returncode == 1, again.stderr[-2000:]
    second = json.loads((failed / "run_manifest.json").read_text("utf-8"))
    assert second["started_utc"] >= first["started_utc"]
    assert failed.is_symlink() and (failed / "geopark.gpkg").is_file()
    assert _visible(good) == published, "a failing run never touches the published set"
    assert _debris(good.outputs.directory) == []


def test_a_reader_keeps_its_open_geopackage_across_a_swap(write_config) -> None:
    cfg = load_config(write_config())
    run_zones(cfg)
    gpkg = cfg.outputs.directory / cfg.outputs.geopackage
    assert gpkg.is_symlink()
    reader = sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True)
    before = reader.execute("SELECT count(*), sum(area_ha) FROM zone_i").fetchone()
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM geosites").fetchone()

    wider = load_config(write_config(_wider_zone_i, name="wider.toml"))
    run_zones(wider)
    run_zones(wider)  # twice: the reader's version is now deleted from the store
    # the open reader still reads its own, complete version
    assert reader.execute("SELECT count(*), sum(area_ha) FROM zone_i").fetchone() == before
    reader.close()
    # a new reader through the same path (GDAL, SQLite) sees the new set
    fresh = sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True)
    after = fresh.execute("SELECT count(*), sum(area_ha) FROM zone_i").fetchone()
    fresh.close()
    assert after[1] > before[1]
    frame = pyogrio.read_dataframe(gpkg, layer="zone_i")
    assert round(float(frame["area_ha"].sum()), 6) == round(after[1], 6)


def test_outputs_of_an_earlier_version_are_adopted_then_linked(write_config) -> None:
    """Real files at the user paths (older pipeline) become symbolic links, no debris."""
    cfg = load_config(write_config())
    run_zones(cfg)
    out = cfg.outputs.directory
    # rebuild the older layout: real files (and folders), a leftover staging folder
    real = sorted(p.name for p in out.iterdir() if p.is_symlink())
    older = out.parent / "older"
    shutil.copytree((out / ".sets" / "current").resolve(), older)
    shutil.rmtree(out / ".sets")
    for link in list(out.iterdir()):
        link.unlink()
    for name in real:
        shutil.move(older / name, out / name)
    shutil.copy(out / cfg.outputs.manifest, older.parent / "older_manifest.json")
    _leftover(out / ".staging-abc123", "geopark.gpkg")
    legacy = verify_set(out / cfg.outputs.manifest, fix="-", fix_vi="-")
    assert legacy.directory == out

    killed = _geopark("zones", "--config", str(cfg.source), kill_at="before-swap")
    assert killed.returncode == -signal.SIGKILL
    adopted = _visible(cfg)  # the older files, now seen through the links
    assert json.loads((older.parent / "older_manifest.json").read_text("utf-8")) == adopted

    done = _geopark("zones", "--config", str(cfg.source))
    assert done.returncode == 0, done.stderr[-2000:]
    _visible(cfg)
    assert all((out / name).is_symlink() for name in real)
    assert _debris(out) == []


# ------------------------------------------------------------------ verification


def test_publish_refuses_a_tampered_set(sample_run, tmp_path) -> None:
    from pipeline.db.publish import read_outputs

    cfg, _ = sample_run
    out = tmp_path / "processed"
    shutil.copytree(cfg.outputs.directory, out, symlinks=True)
    copy = cfg.model_copy(update={"outputs": cfg.outputs.model_copy(update={"directory": out})})
    gpkg, manifest, layers, _ = read_outputs(copy)
    # read from the very version that was checked
    assert gpkg.parent == (out / ".sets" / "current").resolve()
    assert manifest["status"] == "pass" and len(layers) == len(manifest["counts"])

    # same counts, other bytes: what was published under the old inputs' checksums
    with sqlite3.connect(out / "geopark.gpkg") as db:
        db.execute("UPDATE gpkg_contents SET description = 'sửa tay / edited by hand'")
    with pytest.raises(InputError) as refused:
        read_outputs(copy)
    message = refused.value.render()
    assert "geopark.gpkg" in message and "SHA-256" in message
    assert "Lỗi" in message and "Error" in message and "make zones" in message

    result = CliRunner().invoke(
        cli, ["publish", "--config", str(_config_for(copy, tmp_path))], env=_no_database()
    )
    assert result.exit_code == 2, result.output
    assert "geopark.gpkg" in result.output and "Traceback" not in result.output


def test_a_set_with_a_missing_or_unlisted_file_is_refused(sample_run, tmp_path) -> None:
    cfg, _ = sample_run
    out = tmp_path / "processed"
    shutil.copytree(cfg.outputs.directory, out, symlinks=True)
    manifest = out / cfg.outputs.manifest
    (out / ".sets" / "current" / "intruder.csv").write_text("x\n", "utf-8")
    with pytest.raises(InputError, match=r"intruder\.csv"):
        verify_set(manifest, fix="run it", fix_vi="chạy")
    (out / ".sets" / "current" / "intruder.csv").unlink()
    # what SQLite keeps beside a GeoPackage a reader has open is not an intruder
    (out / ".sets" / "current" / "geopark.gpkg-wal").write_bytes(b"")
    verify_set(manifest, fix="run it", fix_vi="chạy")
    (out / cfg.outputs.qa_markdown).resolve().unlink()
    with pytest.raises(InputError) as refused:
        verify_set(manifest, fix="run it", fix_vi="chạy")
    assert "qa_report.md" in refused.value.render() and "missing" in refused.value.render()


def _no_database() -> dict[str, str]:
    return {"DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none", "PGSERVICE": ""}


def _config_for(cfg, tmp_path: Path) -> Path:
    from pipeline.config import dump_config
    from tests.conftest import _absolute, project_config_dict

    raw = _absolute(project_config_dict())
    raw["outputs"]["directory"] = str(cfg.outputs.directory)
    raw["outputs"]["failed_directory"] = str(cfg.outputs.directory / "failed_run")
    raw["maps"]["directory"] = str(cfg.maps.directory)
    raw["dossiers"] = {"directory": str(tmp_path / "dossiers"), "pdf": False}
    path = tmp_path / "copy.toml"
    path.write_text(dump_config(raw), "utf-8")
    return path


# ------------------------------------------------------------------ the map set

UNIT = "LS-CG-04"
OTHER_UNIT = "LS-CG-03"


def _map_manifest(maps: Path) -> dict:
    verified = verify_set(maps / "map_manifest.json", fix="-", fix_vi="-")
    return verified.manifest


def test_maps_killed_at_the_swap_leave_a_complete_map_set(sample_run, tmp_path) -> None:
    cfg, _ = sample_run
    maps = tmp_path / "maps"
    copy = cfg.model_copy(update={"maps": cfg.maps.model_copy(update={"directory": maps})})
    config = _config_for(copy, tmp_path)
    first = _geopark("maps", "--config", str(config), "--unit", UNIT, "--district", "178")
    assert first.returncode == 0, first.stderr[-2000:]
    before = _map_manifest(maps)
    assert f"zoning/{UNIT}.pdf" in before["outputs"] and not before["complete"]
    (maps / "geopark.html").write_text("<html>web map</html>", "utf-8")  # not part of the set
    # leftovers of the earlier folder swap and of a killed run
    (maps / ".zoning.old").mkdir()
    _leftover(maps / ".staging-dead")

    killed = _geopark("maps", "--config", str(config), "--unit", OTHER_UNIT, kill_at="before-swap")
    assert killed.returncode == -signal.SIGKILL
    assert _map_manifest(maps) == before
    assert not (maps / "zoning" / f"{OTHER_UNIT}.pdf").exists()

    killed = _geopark("maps", "--config", str(config), "--unit", OTHER_UNIT, kill_at="after-swap")
    assert killed.returncode == -signal.SIGKILL
    after = _map_manifest(maps)
    # the new set: the sheet rendered now and the one kept from the previous set
    assert f"zoning/{OTHER_UNIT}.pdf" in after["outputs"]
    assert after["outputs"][f"zoning/{UNIT}.pdf"] == before["outputs"][f"zoning/{UNIT}.pdf"]
    index = json.loads((maps / "index.json").read_text("utf-8"))
    assert [s["code"] for s in index["sheets"]] == ["overview", "178", OTHER_UNIT, UNIT]
    for sheet in index["sheets"]:
        assert Path(sheet["pdf"]).is_file() and Path(sheet["png"]).is_file()

    _leftover(maps / ".staging-dead2")
    again = _geopark("maps", "--config", str(config), "--unit", UNIT)
    assert again.returncode == 0, again.stderr[-2000:]
    _map_manifest(maps)
    assert _debris(maps) == []
    assert (maps / "geopark.html").read_text("utf-8") == "<html>web map</html>"


def test_dossiers_refuse_a_partial_or_stale_map_set(sample_run, tmp_path) -> None:
    from pipeline.maps import render_all

    cfg, _ = sample_run
    out = tmp_path / "processed"
    shutil.copytree(cfg.outputs.directory, out, symlinks=True)
    maps = tmp_path / "maps"
    copy = cfg.model_copy(
        update={
            "outputs": cfg.outputs.model_copy(update={"directory": out}),
            "maps": cfg.maps.model_copy(update={"directory": maps}),
        }
    )
    config = _config_for(copy, tmp_path)
    render_all(copy, units=[UNIT], districts=[])
    partial = CliRunner().invoke(cli, ["dossiers", "--config", str(config), "--no-pdf"])
    assert partial.exit_code == 2, partial.output
    assert "make maps" in partial.output and "incomplete" in partial.output
    assert "không đầy đủ" in partial.output and "Traceback" not in partial.output

    # a complete map set, as far as the dossiers can tell, but made from another data set
    manifest = json.loads((maps / "map_manifest.json").read_text("utf-8"))
    stale = {**manifest, "complete": True, "missing_sheets": []}
    stale["data_set"] = {**manifest["data_set"], "manifest_sha256": "0" * 64}
    version = (maps / "map_manifest.json").resolve()
    version.unlink()
    version.write_text(json.dumps(stale), "utf-8")
    other = CliRunner().invoke(cli, ["dossiers", "--config", str(config), "--no-pdf"])
    assert other.exit_code == 2, other.output
    assert "another data set" in other.output and "make maps" in other.output

    # a sheet missing from the set (a half-copied map folder)
    version.write_text(json.dumps(manifest), "utf-8")
    (maps / "zoning" / f"{UNIT}.png").resolve().unlink()
    broken = CliRunner().invoke(cli, ["dossiers", "--config", str(config), "--no-pdf"])
    assert broken.exit_code == 2, broken.output
    assert f"zoning/{UNIT}.png" in broken.output and "make maps" in broken.output


def test_a_kill_at_a_random_moment_also_leaves_a_complete_set(write_config) -> None:
    """Besides the aimed kills: SIGKILL at moments spread over a whole run."""
    cfg = load_config(write_config())
    run_zones(cfg)
    config = write_config(_wider_zone_i, name="wider.toml")
    for delay in (2.5, 5.0, 7.5):
        child = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "zones", "--config", str(config)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        _visible(cfg)
    done = _geopark("zones", "--config", str(config))
    assert done.returncode == 0, done.stderr[-2000:]
    _visible(cfg)
    assert _debris(cfg.outputs.directory) == []
