"""Refresh + check on the default workbook, each as a whole `gpuval` process (LibreOffice
included), and their sum; target <= 5 s. Then refresh of the default workbook beside refresh of
the same workbook with an analyst's 100,000-row sheet (tests/fixtures/bigsheet.py), measured in
the same run, interleaved; target: at most 1.5x. Writes benchmarks/RESULTS_pipeline.md.

Check and publish --pdf beside a bare LibreOffice conversion of the same file, interleaved in one
run; targets: check at most 1.5x, publish with PDF at most 2x.

Run: python benchmarks/bench_pipeline.py [--refresh-only | --check-only]
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


REFRESH_ROUNDS = 15
_PEAK = """
import re, sys, time
from pathlib import Path
from gpuval.pipeline.refresh import refresh
start = time.perf_counter()
report = refresh(Path(sys.argv[1]))
status = Path("/proc/self/status").read_text()
print(time.perf_counter() - start, re.search(r"VmHWM:\\s+(\\d+) kB", status)[1])
"""
"""A refresh in a fresh interpreter: its time and its own peak resident memory (``VmHWM``, kB),
which starts afresh at ``exec``; ``ru_maxrss`` does not (Linux keeps the forking parent's
high-water mark), which made every case read as the benchmark process's 950 MB."""


def refresh_sizes(tmp: Path) -> list[str]:
    """Refresh (in process, and as a process with its peak memory) of the default workbook and
    of the same with a 100,000-row analyst sheet, interleaved round by round."""
    sys.path.insert(0, str(HERE.parent / "tests"))
    from fixtures.bigsheet import add_big_sheet
    from gpuval.pipeline.refresh import refresh

    base = build(tmp / "default.xlsx")
    big = add_big_sheet(base, tmp / "big.xlsx", rows=100_000)
    cases = {"default workbook": base, "with a 100,000-row analyst sheet": big}
    inproc: dict[str, list[float]] = {k: [] for k in cases}
    proc: dict[str, list[float]] = {k: [] for k in cases}
    peak: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(REFRESH_ROUNDS):
        for label, src in cases.items():
            path = tmp / "work.xlsx"
            shutil.copy(src, path)
            start = time.perf_counter()
            report = refresh(path)
            inproc[label].append(time.perf_counter() - start)
            if report.backup is not None:
                report.backup.unlink()
            shutil.copy(src, path)
            out = subprocess.run([sys.executable, "-c", _PEAK, str(path)], check=True,
                                 capture_output=True, text=True).stdout.split()  # fmt: skip
            proc[label].append(float(out[0]))
            peak[label].append(int(out[1]) / 1024)
            for backup in tmp.glob("work.backup-*"):
                backup.unlink()
    med = {k: statistics.median(v) for k, v in inproc.items()}
    ratio = med["with a 100,000-row analyst sheet"] / med["default workbook"]
    lines = [
        "## Refresh: cost with an analyst's large sheet",
        "",
        f"Recorded {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by "
        "`python benchmarks/bench_pipeline.py`; "
        f"{platform.platform()}, Python {platform.python_version()}, {REFRESH_ROUNDS} rounds, "
        "the two cases interleaved. The large sheet: 100,000 rows of a distinct text (shared "
        f"strings), a number, a date and a formula ({big.stat().st_size / 1e6:.1f} MB file, "
        f"{base.stat().st_size / 1e6:.2f} MB without it).",
        "",
        "| refresh of | in process: median, s | best, s | refresh() in a fresh process: "
        "median, s | peak resident memory of that process (VmHWM; LibreOffice's own process "
        "not included): median, MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for label in cases:
        lines.append(
            f"| {label} | {med[label]:.3f} | {min(inproc[label]):.3f} | "
            f"{statistics.median(proc[label]):.3f} | {statistics.median(peak[label]):.0f} |"
        )
    lines += ["", f"Ratio of the medians, in process: {ratio:.2f}x (target: at most 1.5x).", ""]
    return lines


VS_LO_HEADING = "## Check and publish beside a bare LibreOffice conversion"
VS_LO_ROUNDS = 7


def bare_soffice(src: Path, fmt: str, outdir: Path) -> float:
    """One bare ``soffice --convert-to`` process with a fresh profile, as gpuval starts it."""
    from gpuval.pipeline.recalc import find_soffice, make_profile

    soffice = find_soffice()
    assert soffice is not None, "LibreOffice is needed for this benchmark"
    with tempfile.TemporaryDirectory() as profile:
        start = time.perf_counter()
        make_profile(Path(profile))
        subprocess.run([soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless",
                        "--norestore", "--nologo", "--nodefault", "--nolockcheck", "--convert-to",
                        fmt, "--outdir", str(outdir), str(src)],
                       check=True, capture_output=True)  # fmt: skip
        return time.perf_counter() - start


def check_publish_vs_libreoffice(tmp: Path) -> list[str]:
    """`gpuval check` and `gpuval publish --pdf` (whole processes) beside a bare LibreOffice
    conversion of the same workbook to .xlsx and to PDF, interleaved round by round."""
    base = build(tmp / "wb.xlsx")
    today = "2026-01-06"  # the day after the newest market figure in the sources
    # the one figure a Biren workbook uses is its own price of 2026-01-05: a day before `today`
    age = ("--max-age-days", "30")
    times: dict[str, list[float]] = {k: [] for k in ("xlsx", "check", "pdf", "publish")}
    for i in range(VS_LO_ROUNDS):
        times["xlsx"].append(bare_soffice(base, "xlsx:Calc MS Excel 2007 XML", tmp / f"x{i}"))
        times["check"].append(run("check", str(base), "--today", today, *age))
        times["pdf"].append(bare_soffice(base, "pdf", tmp / f"p{i}"))
        times["publish"].append(run("publish", str(base), "--pdf", "--today", today, *age, "-q",
                                    "--out-dir", str(tmp / f"dist{i}")))  # fmt: skip
        assert list((tmp / f"dist{i}").glob("*.pdf")), "publish wrote no PDF"
    med = {k: statistics.median(v) for k, v in times.items()}
    rows = [
        ("bare LibreOffice conversion to .xlsx (`soffice --convert-to xlsx`)", "xlsx", None),
        ("`gpuval check`", "check", "xlsx"),
        ("bare LibreOffice conversion to PDF (`soffice --convert-to pdf`)", "pdf", None),
        ("`gpuval publish --pdf`", "publish", "xlsx"),
    ]
    lines = [
        VS_LO_HEADING,
        "",
        f"Recorded {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by "
        "`python benchmarks/bench_pipeline.py [--check-only]`; "
        f"{platform.platform()}, Python {platform.python_version()}, {VS_LO_ROUNDS} rounds, the "
        "four interleaved; each a whole process (Python start-up and LibreOffice's included), on "
        "the default workbook. Targets: check at most 1.5x the bare conversion to .xlsx, publish "
        "with PDF at most 2x.",
        "",
        "| process | median, s | best, s | median / bare .xlsx conversion |",
        "|---|---:|---:|---:|",
    ]
    for label, key, ref in rows:
        ratio = f"{med[key] / med[ref]:.2f}x" if ref else ""
        lines.append(f"| {label} | {med[key]:.2f} | {min(times[key]):.2f} | {ratio} |")
    lines += [
        "",
        f"publish --pdf / bare conversion to PDF: {med['publish'] / med['pdf']:.2f}x.",
        "",
    ]
    return lines


def main() -> None:
    if "--check-only" in sys.argv:  # replace (or add) that section, keep the others
        with tempfile.TemporaryDirectory() as tmp:
            extra = check_publish_vs_libreoffice(Path(tmp))
        results = HERE / "RESULTS_pipeline.md"
        text = results.read_text(encoding="utf-8") if results.exists() else ""
        if VS_LO_HEADING in text:
            head, rest = text.split(VS_LO_HEADING, 1)
            tail = rest[rest.index("\n## ") + 1 :] if "\n## " in rest else ""
        else:
            marker = "## Refresh: cost with an analyst's large sheet"
            head, tail = (text, "")
            if marker in text:
                before, after = text.split(marker, 1)
                head, tail = before, marker + after
        results.write_text(head.rstrip("\n") + "\n\n" + "\n".join(extra) + "\n" + tail,
                           encoding="utf-8")  # fmt: skip
        print("\n".join(extra))
        return
    if "--refresh-only" in sys.argv:
        with tempfile.TemporaryDirectory() as tmp:
            extra = refresh_sizes(Path(tmp))
        results = HERE / "RESULTS_pipeline.md"
        text = results.read_text(encoding="utf-8") if results.exists() else ""
        head = text.split("## Refresh: cost with an analyst's large sheet")[0].rstrip("\n")
        results.write_text(head + "\n\n" + "\n".join(extra), encoding="utf-8")
        print("\n".join(extra))
        return
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
    with tempfile.TemporaryDirectory() as tmp:
        lines += check_publish_vs_libreoffice(Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        lines += refresh_sizes(Path(tmp))
    (HERE / "RESULTS_pipeline.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
