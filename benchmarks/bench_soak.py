"""The long soak: 1,000 rounds of random analyst edits and refreshes, then a count of anything
lost and a full check. Writes benchmarks/RESULTS_soak.md.

Run: python benchmarks/bench_soak.py [ROUNDS]
"""

from __future__ import annotations

import datetime as dt
import platform
import sys
import tempfile
import time
from pathlib import Path

from gpuval.pipeline.check import check_workbook
from gpuval.pipeline.soak import soak
from gpuval.workbook.build import build

HERE = Path(__file__).resolve().parent


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base = build(work / "base.xlsx")
        prices = work / "p.csv"
        prices.write_text("entity,date,price,currency\nbiren,2026-11-20,33.3,HKD\n")
        start = time.perf_counter()
        result = soak(base, work, refreshes=rounds, seed=20261121, prices=prices,
                      progress=lambda i: print(f"{i}/{rounds}", end="\r", flush=True))  # fmt: skip
        elapsed = time.perf_counter() - start
        report = check_workbook(work / "soak.xlsx", today=dt.date(2026, 11, 21))
    failed = [r.name for r in report.results if not r.passed]
    lines = [
        "# Soak: random analyst edits and refreshes",
        "",
        f"Recorded {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by "
        f"`python benchmarks/bench_soak.py {rounds}`; {platform.platform()}, "
        f"Python {platform.python_version()}.",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| refreshes | {result.refreshes:,} |",
        f"| analyst edits (inputs, comments, notes, new sheets) | {result.edits:,} |",
        f"| edits lost | {len(result.lost)} |",
        f"| time, s | {elapsed:.0f} ({elapsed / rounds:.2f} s per edit + refresh round) |",
        f"| checks failing at the end | {', '.join(failed) or 'none'} |",
        "",
        "Failing `master`/`outputs` checks at the end come from the random inputs themselves",
        "(e.g. scenario probabilities that no longer sum to 1), not from the refreshes.",
        "",
    ]
    (HERE / "RESULTS_soak.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
