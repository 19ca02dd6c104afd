"""bench/tiles_export.py runs: a smoke test at 1,000 leaves (figures come from on-demand runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_tiles_export_bench_runs_on_a_small_log(database_url: str, tmp_path: Path) -> None:
    options = ["--leaves", "1000", "--db", database_url, "--workdir", str(tmp_path / "bench")]
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "tiles_export.py"), *options],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "1,000 leaves" in result.stdout
    # 3 full level 0 tiles and 3 bundles, the partials of 1000 at levels 0 and 1, the checkpoint
    assert "(10 files," in result.stdout
    assert "ratio export / hashing:" in result.stdout
    assert "(4 files written)" in result.stdout  # again: 2 partial tiles, 1 bundle, checkpoint
