"""Start-up of the quick commands, each as a whole process, beside references measured in the same
run; target: `gpuval --version`, `--help`, `data` and `entities` under 0.15 s. Writes
benchmarks/RESULTS_cli.md.

Every round runs each case once, in turn (so a busy moment of the machine falls on all of them),
with stdout discarded. References: bare `python -c pass` (interpreter start-up) and
`python -c "import numpy"`. With a baseline revision (default: the commit before issue 15's work)
the same commands also run from that revision's source, exported with `git archive` into a
temporary folder, through the same interpreter and installed libraries.

Run: python benchmarks/bench_cli.py [--rounds N] [--baseline REV | --no-baseline]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from machine import describe

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
COMMANDS = (["--version"], ["--help"], ["data"], ["entities"])
TARGET_S = 0.15
BASELINE = "dfe3523"  # main before the quick command line (issue 15)
_FROM_SOURCE = "import sys; sys.path.insert(0, {src!r}); from gpuval.cli import main; " + (
    "sys.argv[0] = 'gpuval'; sys.exit(main())"
)


def _gpuval_script() -> Path:
    script = Path(sys.executable).parent / "gpuval"
    if not script.is_file():
        raise SystemExit(f"no gpuval console script beside {sys.executable}; pip install -e .")
    return script


def _export(rev: str, into: Path) -> Path:
    """The revision's src/ folder, extracted under ``into`` (the repository is only read)."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", rev, "src"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr.decode()[-300:]}")
    return elapsed


def _imports(argv: list[str], top: int = 5) -> str:
    """The largest top-level imports of one run of the command (``python -X importtime``), ms
    cumulative (each includes what it imports)."""
    code = f"import runpy, sys; sys.argv = {['gpuval', *argv]!r}; " + (
        "runpy.run_module('gpuval.cli', run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=False,
    )
    rows = []
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and parts[2][1:2] != " ":
            rows.append((int(parts[1]), parts[2].strip()))  # a top-level import
    rows.sort(reverse=True)
    return ", ".join(f"{name} {us / 1000:.1f}" for us, name in rows[:top])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()

    py = sys.executable
    script = str(_gpuval_script())
    cases: dict[str, list[str]] = {
        "`python -c pass`": [py, "-c", "pass"],
        '`python -c "import numpy"`': [py, "-c", "import numpy"],
    }
    for command in COMMANDS:
        cases[f"`gpuval {' '.join(command)}`"] = [script, *command]
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_baseline:
            src = _export(args.baseline, Path(tmp))
            for command in COMMANDS:
                code = _FROM_SOURCE.format(src=str(src))
                cases[f"`gpuval {' '.join(command)}` at {args.baseline}"] = [
                    py,
                    "-c",
                    code,
                    *command,
                ]
        for cmd in cases.values():  # warm the file cache and the .pyc files
            _time(cmd)
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, cmd in cases.items():
                times[name].append(_time(cmd))
        importtime = {f"`gpuval {' '.join(c)}`": _imports(c) for c in COMMANDS}

    numpy_median = statistics.median(times['`python -c "import numpy"`'])
    lines = [
        "# Command-line start-up benchmark",
        "",
        f"Recorded {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by `python benchmarks/bench_cli.py`"
        f"; {args.rounds} rounds, every case once per round in turn; whole processes, stdout "
        "discarded.",
        "",
        *(f"- {key}: {value}" for key, value in describe().items()),
        "",
        f"Target: `gpuval --version`, `--help`, `data` and `entities` under {TARGET_S} s.",
        "",
        "| case | median, ms | min, ms | median / `import numpy` | target |",
        "|---|---:|---:|---:|---|",
    ]
    for name, values in times.items():
        med = statistics.median(values)
        target = ""
        if name.startswith("`gpuval") and " at " not in name:
            target = "met" if med < TARGET_S else "MISSED"
        lines.append(
            f"| {name} | {med * 1000:.1f} | {min(values) * 1000:.1f} | "
            f"{med / numpy_median:.2f} | {target} |"
        )
    lines += [
        "",
        "Largest top-level imports per command (`python -X importtime`, one run, cumulative "
        "ms; the interpreter's own start-up imports included):",
        "",
        *(f"- {name}: {text}" for name, text in importtime.items()),
        "",
    ]
    (HERE / "RESULTS_cli.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
