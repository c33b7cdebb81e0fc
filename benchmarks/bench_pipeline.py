"""Refresh + check on the default workbook, each as a whole `gpuval` process (LibreOffice
included), and their sum; target <= 5 s. Writes benchmarks/RESULTS_pipeline.md.

Run: python benchmarks/bench_pipeline.py
"""

from __future__ import annotations

import datetime as dt
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gpuval.workbook.build import build

HERE = Path(__file__).resolve().parent
ROUNDS = 5


def run(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gpuval.cli", *args], check=False,
                   capture_output=True)  # fmt: skip
    return time.perf_counter() - start


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = build(Path(tmp) / "base.xlsx")
        prices = Path(tmp) / "prices.csv"
        prices.write_text("entity,date,price,currency\nbiren,2026-11-20,36.5,HKD\n")
        for _ in range(ROUNDS):
            path = Path(tmp) / "wb.xlsx"
            shutil.copy(base, path)
            t_refresh = run("refresh", str(path), "--prices", str(prices), "-q")
            t_check = run("check", str(path), "--today", "2026-11-21")
            rows.append((t_refresh, t_check, t_refresh + t_check))
    best = [min(col) for col in zip(*rows, strict=True)]
    med = [statistics.median(col) for col in zip(*rows, strict=True)]
    lines = [
        "# Refresh + check benchmark",
        "",
        f"Recorded {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by "
        "`python benchmarks/bench_pipeline.py`; "
        f"{platform.platform()}, Python {platform.python_version()}, {ROUNDS} rounds.",
        "",
        "| step (whole process) | best, s | median, s |",
        "|---|---:|---:|",
        f"| `gpuval refresh --prices` | {best[0]:.2f} | {med[0]:.2f} |",
        f"| `gpuval check` (LibreOffice recalculation included) | {best[1]:.2f} | {med[1]:.2f} |",
        f"| refresh + check (target <= 5 s) | {best[2]:.2f} | {med[2]:.2f} |",
        "",
    ]
    (HERE / "RESULTS_pipeline.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
