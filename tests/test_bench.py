"""The benchmark harness works end to end on a tiny register (no timing is checked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import shapely

from pipeline.bench.registers import karst_register
from tests.postgis import postgis_available

ROOT = Path(__file__).resolve().parents[1]


def test_karst_register_is_deterministic_and_clustered() -> None:
    park = shapely.box(400_000, 2_400_000, 470_000, 2_470_000)
    args = (["cave", "cultural"], ["local", "national"], 4_000, park, "EPSG:9215")
    sites, points = karst_register(*args)
    again, _ = karst_register(*args)
    assert len(sites) == 1_000 and len(points) == 4_000
    assert sites.geometry.equals(again.geometry)
    assert set(points["geosite_code"]) == set(sites["geosite_code"])  # every site surveyed
    assert sites["cluster_code"].notna().any()
    # massifs: sites are much closer to their nearest neighbour than uniform ones would be
    xy = shapely.get_coordinates(sites.geometry.values)
    nearest = np.sort(np.hypot(*(xy[:, None, :] - xy[None, :, :]).T), axis=0)[1]
    uniform_spacing = 0.5 * np.sqrt(park.area / len(sites))
    assert np.median(nearest) < 0.5 * uniform_spacing


def test_bench_smoke_run(tmp_path: Path) -> None:
    engines = ["project", "geopandas"] + (["postgis"] if postgis_available() else [])
    output = tmp_path / "bench.json"
    sizes = ["--points", "200", "--dense", "200", "--end-to-end", "200"]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline.bench",
            *sizes,
            "--engines",
            *engines,
            "--output",
            str(output),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(output.read_text("utf-8"))
    rows = report["zoning"]
    assert {(r["workload"], r["engine"]) for r in rows} == {
        (w, e) for w in ("karst", "dense") for e in engines
    }
    assert all(r["agrees"] and r["seconds"] > 0 for r in rows)
    assert all(r["areas_m2"]["I"] > 0 and r["areas_m2"]["II"] > 0 for r in rows)
    (e2e,) = report["end_to_end"]
    assert e2e["points"] == 200 and e2e["exit_status"] in (0, 1)  # finished; QA is not timed
    assert set(e2e["stage_seconds"]) >= {"ingest", "zone", "check", "write"}
    assert "project" in proc.stdout and "geopark zones" in proc.stdout


def test_run_memory_counts_the_worker_processes_once() -> None:
    """A forked worker's own pages are added; the pages it shares with its parent are not
    counted twice."""
    import multiprocessing
    import os

    from pipeline.bench.run import _tree_pss_mb

    shared = np.ones(50 * 2**20 // 8)  # 50 MB the child inherits
    ready, release = multiprocessing.get_context("fork").Event(), multiprocessing.Event()

    def work() -> None:
        own = np.ones(100 * 2**20 // 8)  # 100 MB of its own
        ready.set()
        release.wait(30)
        del own

    before = _tree_pss_mb(os.getpid())
    child = multiprocessing.get_context("fork").Process(target=work)
    child.start()
    try:
        assert ready.wait(30)
        during = _tree_pss_mb(os.getpid())
    finally:
        release.set()
        child.join(30)
    assert 90 < during - before < 130, (before, during)
    assert shared.sum() > 0


def test_bench_without_postgis_says_how_to_install_it(tmp_path, monkeypatch, capsys) -> None:
    from pipeline.bench import run
    from pipeline.db import throwaway

    monkeypatch.setattr(throwaway, "postgis_available", lambda: False)
    status = run.main(
        ["--quick", "--engines", "project", "postgis", "--output", str(tmp_path / "b")]
    )
    err = capsys.readouterr().err
    assert status == 2 and not (tmp_path / "b").exists()
    assert "Error: PostgreSQL 15 + PostGIS" in err and "Fix: make system-deps" in err
