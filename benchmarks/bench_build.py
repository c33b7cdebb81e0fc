"""Workbook build benchmarks: `gpuval build` as a whole process, and builds with 250 / 500 /
1,000 synthetic peers (in-process, including the save) to show how the time grows.

Run: python benchmarks/bench_build.py  (writes benchmarks/RESULTS_build.md)
"""

from __future__ import annotations

import datetime as dt
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gpuval.data.dataset import load_dataset
from gpuval.workbook.build import build_workbook, save_atomic
from gpuval.workbook.sheets import peers

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # benchmarks/machine.py
from machine import cpu_model  # noqa: E402

ROUNDS = 5


def synthetic_peers(n: int, seed: int = 7) -> list[dict[str, object]]:
    """The real table followed by ``n - 7`` made-up companies with plausible figures."""
    rng = random.Random(seed)
    rows = peers.peer_rows(load_dataset())
    for i in range(n - len(rows)):
        hk = rng.random() < 0.4
        rows.append({
            "id": f"peer_{i:04d}", "name": f"Synthetic {i}", "venue": "HK" if hk else "A",
            "listing_ccy": "HKD" if hk else "CNY", "reporting_ccy": "CNY",
            "price": rng.uniform(5, 300), "shares": rng.uniform(2e8, 5e9),
            "in_stats": "yes", "fy_year": 2024,
            "revenue_fy": rng.uniform(1e8, 5e9) if rng.random() < 0.7 else None,
            "revenue_h1": rng.uniform(5e7, 3e9) if rng.random() < 0.5 else None,
            "revenue_forward": rng.uniform(1e8, 8e9) if rng.random() < 0.5 else None,
            "backlog": rng.uniform(1e8, 5e9) if rng.random() < 0.2 else None,
        })  # fmt: skip
    return rows


def time_process(out: Path) -> list[float]:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "gpuval.cli", "build", "--out", str(out)],
                       check=True, capture_output=True)  # fmt: skip
        times.append(time.perf_counter() - start)
    return times


def time_peers(n: int, out: Path) -> list[float]:
    rows = synthetic_peers(n)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        save_atomic(build_workbook(peer_rows=rows), out)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "wb.xlsx"
        process = time_process(out)
        default = time_peers(7, out)
        sizes = {n: time_peers(n, out) for n in (250, 500, 1000)}
    lines = [
        "# Workbook build benchmarks",
        "",
        f"Recorded {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by "
        "`python benchmarks/bench_build.py`.",
        "",
        f"Machine: {platform.platform()}, {cpu_model()}, Python {platform.python_version()}.",
        "",
        "| measurement | best, s | median, s | target |",
        "|---|---:|---:|---|",
        f"| `gpuval build` whole process (default workbook, {ROUNDS} runs) | {min(process):.2f} | "
        f"{statistics.median(process):.2f} | <= 1.5 s |",
        f"| build + save in process, 7 peers (the default) | {min(default):.2f} | "
        f"{statistics.median(default):.2f} | |",
    ]
    for n, times in sizes.items():
        lines.append(
            f"| build + save in process, {n:,} peers | {min(times):.2f} | "
            f"{statistics.median(times):.2f} | {'<= 10 s' if n == 1000 else ''} |"
        )
    t250, t1000 = min(sizes[250]), min(sizes[1000])
    base = min(default)
    lines += [
        "",
        f"Growth: (t(1000) - t(7)) / (t(250) - t(7)) = {(t1000 - base) / (t250 - base):.2f} "
        "(4.0 would be exactly linear in the number of peers).",
        "",
    ]
    (HERE / "RESULTS_build.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
