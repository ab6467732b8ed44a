"""Work spread over cores: threads for GEOS, forked processes for GIL-bound writers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from pipeline import outputs, parallel
from pipeline.errors import FileSystemError
from pipeline.parallel import ForkedCall, alongside, threaded

ROOT = Path(__file__).resolve().parents[1]


def _uneven_polygons(seed: int = 1) -> np.ndarray:
    """Small squares with a few massifs of thousands of vertices among them, and gaps."""
    rng = np.random.default_rng(seed)
    small = [shapely.box(x, 0, x + 5, 5) for x in rng.uniform(0, 1e4, 300)]
    big = [shapely.Point(x, 50).buffer(40, quad_segs=800) for x in (100.0, 5000.0)]
    geoms = np.array([*small[:150], big[0], None, *small[150:], big[1]], dtype=object)
    return geoms


@pytest.mark.parametrize("n_workers", [2, 3, 8])
def test_threaded_gives_what_one_call_gives(monkeypatch, n_workers) -> None:
    geoms = _uneven_polygons()
    expected = shapely.buffer(geoms, 3.0, quad_segs=4)
    other = np.roll(geoms, 7)
    expected_diff = shapely.difference(geoms, other)
    monkeypatch.setattr(parallel, "workers", lambda: n_workers)
    calls: list[int] = []
    real = shapely.buffer

    def counting(chunk, *args, **kwargs):
        calls.append(len(chunk))
        return real(chunk, *args, **kwargs)

    got = threaded(counting, geoms, 3.0, quad_segs=4)
    assert len(calls) > 1, "a few hundred geometries of many vertices are split"
    assert sum(calls) == len(geoms)
    assert all(
        (a is None and b is None) or shapely.equals_exact(a, b, 0)
        for a, b in zip(got, expected, strict=True)
    )
    diff = threaded(shapely.difference, geoms, other)
    assert all(
        (a is None and b is None) or shapely.equals_exact(a, b, 0)
        for a, b in zip(diff, expected_diff, strict=True)
    )


def test_threaded_splits_by_vertices_not_by_count(monkeypatch) -> None:
    """Two massifs hold most of the vertices: they do not end up in the same chunk."""
    geoms = _uneven_polygons()
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    chunks: list[np.ndarray] = []

    def record(chunk):
        chunks.append(chunk)
        return shapely.get_num_coordinates(chunk)

    threaded(record, geoms)
    heavy = [int(shapely.get_num_coordinates(c).sum()) for c in chunks]
    assert max(heavy) < 0.75 * sum(heavy)


def test_small_arrays_are_not_split(monkeypatch) -> None:
    monkeypatch.setattr(parallel, "workers", lambda: 4)
    calls = []
    points = shapely.points(np.arange(100.0), np.zeros(100))
    threaded(lambda chunk: calls.append(len(chunk)) or shapely.area(chunk), points)
    assert calls == [100]


def _fail_with(error: BaseException) -> None:
    raise error


def test_forked_call_returns_and_raises_what_the_child_raised(tmp_path) -> None:
    target = tmp_path / "written.txt"
    ForkedCall(target.write_text, "hello").wait()
    assert target.read_text() == "hello"  # the child wrote into the parent's folder
    with pytest.raises(OSError) as raised:
        ForkedCall(_fail_with, OSError(28, "No space left on device", "x.gpkg")).wait()
    assert raised.value.errno == 28 and raised.value.filename == "x.gpkg"
    error = FileSystemError("đĩa đầy", "disk full", file="out", fix="free space", fix_vi="dọn")
    with pytest.raises(FileSystemError) as raised_own:
        ForkedCall(_fail_with, error).wait()
    assert str(raised_own.value) == str(error)  # bilingual message and fix, whole


def test_a_child_that_dies_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="status 7"):
        ForkedCall(os._exit, 7).wait()


def test_alongside_kills_the_child_when_the_body_fails(tmp_path) -> None:
    marker = tmp_path / "late.txt"

    def slow() -> None:
        time.sleep(5)
        marker.write_text("too late")

    with pytest.raises(ValueError), alongside(slow):
        raise ValueError("the main part failed")
    time.sleep(0.2)
    assert not marker.exists()


def test_alongside_with_one_cpu_runs_first_here(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(parallel, "workers", lambda: 1)
    pid_file = tmp_path / "pid"
    with alongside(lambda: pid_file.write_text(str(os.getpid()))):
        assert pid_file.read_text() == str(os.getpid())


def test_the_child_dies_with_its_parent(tmp_path) -> None:
    """A killed run leaves no writer behind (prctl PR_SET_PDEATHSIG)."""
    child_pid = tmp_path / "child.pid"
    script = textwrap.dedent(
        f"""
        import os, time
        from pipeline.parallel import ForkedCall
        def work():
            open({str(child_pid)!r}, "w").write(str(os.getpid()))
            time.sleep(60)
        call = ForkedCall(work)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    deadline = time.monotonic() + 30
    while not child_pid.exists() or not child_pid.read_text():
        assert time.monotonic() < deadline, "the child never started"
        time.sleep(0.05)
    pid = int(child_pid.read_text())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and "Z" not in _state(pid):
        assert time.monotonic() < deadline, "the child outlived its parent"
        time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


# ------------------------------------------------------------------ layers written ahead


def _points(n: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"point_id": [f"P{i}" for i in range(n)], "value": np.arange(n, dtype=float)},
        geometry=shapely.points(np.arange(n) * 10.0 + 400000, np.full(n, 2400000.0)),
        crs="EPSG:9215",
    )


def test_layers_written_ahead_are_taken_and_changed_ones_rewritten(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(outputs, "second_process", lambda: True)
    store, staging = tmp_path / "store", tmp_path / "staging"
    staging.mkdir()
    kept, changed = _points(50), _points(30)
    with outputs.layers_in_advance(store, "set.gpkg") as ahead:
        ahead.start({"survey_points": kept, "geosites": changed})
        changed["extra"] = 1  # changed after it was handed over: written again
        counted: list[int] = []
        left = ahead.take(
            {"survey_points": kept, "geosites": changed, "quarantine": _points(3)},
            staging / "set.gpkg",
            counted.append,
        )
        assert set(left) == {"geosites", "quarantine"} and counted == [50]
        outputs.write_geopackage(left, staging / "set.gpkg")
    layers = {name for name, _ in pyogrio.list_layers(staging / "set.gpkg")}
    assert layers == {"survey_points", "geosites", "quarantine"}
    assert "extra" in pyogrio.read_info(staging / "set.gpkg", layer="geosites")["fields"]
    assert pyogrio.read_info(staging / "set.gpkg", layer="survey_points")["features"] == 50
    assert _made(store) == [], "the folder written ahead is gone"


def test_a_killed_run_s_folder_ahead_is_removed_by_the_next_run(tmp_path) -> None:
    store = tmp_path / "store"
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from pipeline import outputs
        with outputs.layers_in_advance(Path({str(store)!r}), "set.gpkg") as ahead:
            ahead.path.write_bytes(b"half a GeoPackage")
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    killed = subprocess.run([sys.executable, "-c", script], cwd=ROOT)
    assert killed.returncode == -signal.SIGKILL
    left = [p.name for p in _made(store)]
    assert len(left) == 1 and left[0].startswith(outputs.AHEAD_PREFIX)
    with outputs.layers_in_advance(store, "set.gpkg") as ahead:
        # at once, whatever its age: it was made and held under the store's lock
        assert _made(store) == [ahead.path.parent]
    assert _made(store) == []


def _made(store: Path) -> list[Path]:
    """What is in ``store`` but its lock file (which every run of a store shares)."""
    return [p for p in store.iterdir() if p.name != outputs.LOCK]


@pytest.mark.slow
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to compare with")
def test_zones_on_one_cpu_write_what_two_write_and_say_so(write_config, tmp_path) -> None:
    """With one CPU nothing is written alongside, the progress does not claim it is,
    and the GeoPackage holds what a run on two CPUs writes."""
    runs = {}
    for cpus in ("0", "0,1"):
        folder = tmp_path / f"cpus-{cpus.replace(',', '-')}"

        def to_folder(raw, folder=folder):
            raw["outputs"]["directory"] = str(folder)
            raw["outputs"]["failed_directory"] = str(folder / "failed_run")

        config = write_config(to_folder, name=f"geopark-{cpus.replace(',', '-')}.toml")
        command = [
            "taskset",
            "-c",
            cpus,
            sys.executable,
            "-c",
            "from pipeline.cli.main import cli; cli()",
        ]
        done = subprocess.run(
            [*command, "zones", "--config", str(config)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        runs[cpus] = (done.stdout + done.stderr, folder)
    one, two = runs["0"][0], runs["0,1"][0]
    assert "alongside" not in one and "song song" not in one
    assert "Writing the survey points into the GeoPackage alongside" in two
    for layer in ("survey_points", "protection_zones", "boundary_markers"):
        frames = [
            pyogrio.read_dataframe(next(folder.glob("*.gpkg")), layer=layer)
            for _, folder in runs.values()
        ]
        assert len(frames[0]) > 0
        assert frames[0].equals(frames[1]), layer


ARENA_PROBE = """
import ctypes, sys, threading
import numpy as np
from pipeline.parallel import limit_malloc_arenas
if sys.argv[1] == "limited":
    assert limit_malloc_arenas(1)
def allocate():
    kept = [np.ones(10_000) for _ in range(50)]  # 80 kB blocks: malloc's arenas, not mmap
stats = ctypes.CDLL(None).malloc_stats  # one "Arena k:" block per arena, on stderr
stats()
sys.stderr.write("THREADS\\n"); sys.stderr.flush()
threads = [threading.Thread(target=allocate) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
stats()
"""


def test_the_malloc_arenas_are_limited() -> None:
    """Threads that come and go get no malloc arenas of their own once limited
    (glibc: each would otherwise keep what it freed)."""

    def new_arenas(mode: str) -> int:
        done = subprocess.run(
            [sys.executable, "-c", ARENA_PROBE, mode], capture_output=True, text=True, check=True
        )
        before, after = done.stderr.split("THREADS")
        return after.count("Arena ") - before.count("Arena ")

    assert new_arenas("default") >= 2
    assert new_arenas("limited") == 0
