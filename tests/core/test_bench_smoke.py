"""The benchmark script runs end to end (tiny sizes; no timing is asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_core.py"


def test_bench_core_runs_and_writes_results(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_core", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "RESULTS_core.md"
    argv = ["--draws", "2000", "--loop-draws", "500", "--repeat", "1", "--loop-seconds", "0"]
    assert bench.main([*argv, "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    for needle in ("## Machine", "cpu", "numpy", "2,000 draws", "scaled by 4", "`tam_scenario`"):
        assert needle in text
