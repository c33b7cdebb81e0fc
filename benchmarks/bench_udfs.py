"""Benchmark the xlwings UDFs (``gpuval.excel.udfs``) and record the figures in ``RESULTS_udfs.md``.

Run: ``python benchmarks/bench_udfs.py [--repeat R] [--loop-seconds S] [--xlwings-server]
[--out PATH]``

Measures the Python time of one call of every ``GPUVAL_*`` function, called as Python (on Linux
xlwings' decorators are no-ops), in three groups:

1. **Scalar UDFs** (single cells in, one value out): per call with the arguments shaped as
   xlwings delivers them (``[[x]]``, ``ndim=2``) and as plain floats, next to the core function
   alone, so the UDF layer's own cost (coercion, checks, error guard) is visible. Target:
   ``GPUVAL_DCF`` <= 15 microseconds per call. Every figure is a median, beside a
   reference (``numpy.ones(3)``) measured in the same run.
2. **Array and table UDFs** (ranges in, arrays out): peers, scenario steps, DCF from a table and
   its schedule, sensitivity grids, Monte Carlo, a spilled P/S grid.
3. **Start-up**: a fresh interpreter importing every function, beside ``import numpy``.
4. **Dataset lookups**: cached (every call after the first) and cold (caches cleared, the
   dataset loaded and indexed again, as on the first call in a fresh Excel session).

With ``--xlwings-server`` it also times one full ``xlwings.server.custom_functions_call``
round trip (xlwings' Office.js argument and result conversion included), which needs
``XLWINGS_ON_SERVER=true`` and ``XLWINGS_LICENSE_KEY=noncommercial`` (set by the script, for
this measurement only). Nothing here is asserted by the test-suite; the script only reports.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if importlib.util.find_spec("gpuval") is None:  # running from a source tree, not installed
    sys.path.insert(0, str(ROOT / "src"))

if "--xlwings-server" in sys.argv:  # must be set before xlwings is first imported
    os.environ["XLWINGS_ON_SERVER"] = "true"
    os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"

import numpy as np  # noqa: E402
import xlwings  # noqa: E402

from gpuval import core  # noqa: E402
from gpuval.excel import data as data_udfs  # noqa: E402
from gpuval.excel import udfs  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/machine.py
from machine import describe  # noqa: E402

TARGET_US = 15.0
"""Target: GPUVAL_DCF at most 15 microseconds per call (Excel-shaped arguments)."""
TARGET_CASE = "GPUVAL_DCF (19 inputs)"

Case = tuple[str, Callable[[], Any], Callable[[], Any] | None, Callable[[], Any] | None]
"""(label, UDF with xlwings-shaped args, UDF with plain floats, the core alone)."""


def c(x: Any) -> list[list[Any]]:
    return [[x]]


TAM = dict(
    share=0.05, tam=200e9, margin=0.20, exit_multiple=30.0, cost_of_equity=0.25, years=2.0,
    shares_outstanding=2.6e9, prob_success=0.5, distress_value=2e9, dilution=0.2, fx=7.8,
    price=50.0,
)  # fmt: skip
SCENARIO = {k: v for k, v in TAM.items() if k not in ("share", "price")}
DCF = dict(
    revenue=337e6, growth_y1=0.8, growth_y2_5=0.5, terminal_growth=0.03, operating_margin=-1.0,
    target_margin=0.25, sales_to_capital=1.5, tax_rate=0.25, cost_of_capital=0.12,
    mature_cost_of_capital=0.08, shares_outstanding=2.4e9, margin_convergence_year=8,
    nol=2e9, terminal_roc=0.12, prob_failure=0.2, distress_proceeds=1e9, cash=5e9, debt=1e9,
    fx=1.11,
)  # fmt: skip
DCF_TABLE = [["input", "value"], *([k, v] for k, v in DCF.items())]
TAM_TABLE = [["input", "value"], *([k, v] for k, v in TAM.items() if k != "price")]
PEERS = [
    ["Cambricon", 100.0], ["Moore Threads", 200.0], ["MetaX", 150.0], ["Kunlunxin", None],
    ["Iluvatar", 60.0], ["Biren", 80.0],
]  # fmt: skip
DISTS = [
    ["input", "distribution", "p1", "p2", "p3", "lower", "upper"],
    ["share", "triangular", 0.02, 0.05, 0.10, None, None],
    ["exit_multiple", "lognormal", 30.0, 10.0, None, 10.0, None],
    ["prob_success", "uniform", 0.3, 0.7, None, None, None],
]


def scalar_cases() -> list[Case]:
    u = udfs
    tam_cells = [c(v) for v in TAM.values()]
    tam_plain = list(TAM.values())
    dcf_cells = [c(v) for v in DCF.values()]
    dcf_plain = list(DCF.values())
    dcf_kw = {k: v for k, v in DCF.items()}
    return [
        ("GPUVAL_PS", lambda: u.GPUVAL_PS(c(300e9), c(1.5e9), c(1.0)),
         lambda: u.GPUVAL_PS(300e9, 1.5e9, 1.0), lambda: core.price_to_sales(300e9, 1.5e9, 1.0)),
        ("GPUVAL_PS_RUNRATE", lambda: u.GPUVAL_PS_RUNRATE(c(300e9), c(0.7e9)),
         lambda: u.GPUVAL_PS_RUNRATE(300e9, 0.7e9), lambda: core.run_rate_ps(300e9, 0.7e9)),
        ("GPUVAL_PS_BACKLOG", lambda: u.GPUVAL_PS_BACKLOG(c(79.2e9), c(1.24e9), c(15.0)),
         lambda: u.GPUVAL_PS_BACKLOG(79.2e9, 1.24e9, 15.0),
         lambda: core.backlog_ps(79.2e9, 1.24e9, 15.0)),
        ("GPUVAL_TAM_VALUE", lambda: u.GPUVAL_TAM_VALUE(*tam_cells),
         lambda: u.GPUVAL_TAM_VALUE(*tam_plain), lambda: core.tam_scenario(**TAM).value),
        ("GPUVAL_TAM_PER_SHARE", lambda: u.GPUVAL_TAM_PER_SHARE(*tam_cells),
         lambda: u.GPUVAL_TAM_PER_SHARE(*tam_plain),
         lambda: core.tam_scenario(**TAM).value_per_share),
        ("GPUVAL_TAM_AT", lambda: u.GPUVAL_TAM_AT(c(2027.0), c(30.1e9), c(201.2e9)),
         lambda: u.GPUVAL_TAM_AT(2027.0, 30.1e9, 201.2e9),
         lambda: core.tam_at(2027.0, 30.1e9, 201.2e9)),
        ("GPUVAL_NVIDIA_SHARE_VALUE", lambda: u.GPUVAL_NVIDIA_SHARE_VALUE(c(0.01), c(5e12), c(7.0)),
         lambda: u.GPUVAL_NVIDIA_SHARE_VALUE(0.01, 5e12, 7.0),
         lambda: core.fraction_of_nvidia_value(0.01, 5e12, 7.0)),
        ("GPUVAL_NVIDIA_SHARE_PER_SHARE",
         lambda: u.GPUVAL_NVIDIA_SHARE_PER_SHARE(c(0.01), c(5e12), c(2.5e9), c(7.8)),
         lambda: u.GPUVAL_NVIDIA_SHARE_PER_SHARE(0.01, 5e12, 2.5e9, 7.8),
         lambda: core.fraction_of_nvidia_per_share(0.01, 5e12, 2.5e9, 7.8)),
        ("GPUVAL_NVIDIA_FRACTION", lambda: u.GPUVAL_NVIDIA_FRACTION(c(350e9), c(5e12), c(7.0)),
         lambda: u.GPUVAL_NVIDIA_FRACTION(350e9, 5e12, 7.0),
         lambda: core.implied_fraction_of_nvidia(350e9, 5e12, 7.0)),
        ("GPUVAL_DCF (19 inputs)", lambda: u.GPUVAL_DCF(*dcf_cells),
         lambda: u.GPUVAL_DCF(*dcf_plain), lambda: core.dcf_value_per_share(**dcf_kw)),
        ("GPUVAL_IMPLIED_SHARE (closed form)",
         lambda: u.GPUVAL_IMPLIED_SHARE(c(78e9), *tam_cells[1:11]),
         lambda: u.GPUVAL_IMPLIED_SHARE(78e9, *tam_plain[1:11]),
         lambda: core.implied_share(78e9, **SCENARIO)),
        ("GPUVAL_DATA (cached)", lambda: u.GPUVAL_DATA(c("biren"), c("order_backlog"), None,
                                                       c("biren.order_backlog")),
         lambda: u.GPUVAL_DATA("biren", "order_backlog", None, "biren.order_backlog"), None),
        ("GPUVAL_SOURCE (cached)", lambda: u.GPUVAL_SOURCE(c("cambricon"), c("revenue")),
         lambda: u.GPUVAL_SOURCE("cambricon", "revenue"), None),
        ("GPUVAL_FX (cached)", lambda: u.GPUVAL_FX(c("USD"), c("CNY")),
         lambda: u.GPUVAL_FX("USD", "CNY"), None),
        ("GPUVAL_VERSION", lambda: u.GPUVAL_VERSION(), None, None),
    ]  # fmt: skip


def array_cases() -> list[tuple[str, Callable[[], Any]]]:
    u = udfs
    tam_cells = [c(v) for v in TAM.values()]
    col100 = [[x] for x in np.linspace(10e9, 100e9, 100)]
    row100 = [list(np.linspace(0.1e9, 1e9, 100))]
    shares = [[x] for x in np.linspace(0.01, 0.1, 20)]
    multiples = [list(np.linspace(10.0, 60.0, 20))]
    g5 = [[0.01], [0.02], [0.03], [0.04], [0.05]], [[10.0, 20.0, 30.0, 40.0, 50.0]]
    return [
        ("GPUVAL_PEER_STATS (6 peers, name table)", lambda: u.GPUVAL_PEER_STATS(PEERS, c("Biren"))),
        ("GPUVAL_PEER_VALUE (6 peers, median)", lambda: u.GPUVAL_PEER_VALUE(c(0.5e9), PEERS)),
        ("GPUVAL_VENUE_GAP (3 + 2 peers)",
         lambda: u.GPUVAL_VENUE_GAP([[120.0, 200.0, 160.0]], [[80.0, 40.0]])),
        ("GPUVAL_TAM_SCENARIO (8 x 2 steps)", lambda: u.GPUVAL_TAM_SCENARIO(*tam_cells)),
        ("GPUVAL_DCF_TABLE (19-row table)", lambda: u.GPUVAL_DCF_TABLE(DCF_TABLE)),
        ("GPUVAL_DCF_SCHEDULE (13 x 11 rows)", lambda: u.GPUVAL_DCF_SCHEDULE(DCF_TABLE)),
        ("GPUVAL_IMPLIED_GROWTH (bisection)", lambda: u.GPUVAL_IMPLIED_GROWTH(c(30e9), DCF_TABLE)),
        ("GPUVAL_PS (100 x 1 column by 1 x 100 row = 10,000 cells)",
         lambda: u.GPUVAL_PS(col100, row100)),
        ("GPUVAL_TAM_PER_SHARE (20 x 20 spilled grid)",
         lambda: u.GPUVAL_TAM_PER_SHARE(shares, *tam_cells[1:3], multiples, *tam_cells[4:])),
        ("GPUVAL_SENSITIVITY (tam, 5 x 5)",
         lambda: u.GPUVAL_SENSITIVITY(c("tam"), TAM_TABLE, c("share"), g5[0],
                                      c("exit_multiple"), g5[1])),
        ("GPUVAL_SENSITIVITY (dcf, 20 x 20)",
         lambda: u.GPUVAL_SENSITIVITY(c("dcf"), DCF_TABLE, c("growth_y2_5"), shares,
                                      c("target_margin"), [[x / 100 for x in multiples[0]]])),
        ("GPUVAL_MONTECARLO (tam, 3 inputs, 10,000 draws)",
         lambda: u.GPUVAL_MONTECARLO(c("tam"), TAM_TABLE, DISTS, c(10_000), None, None, c(50.0))),
        ("GPUVAL_MONTECARLO (tam, 3 inputs, 200,000 draws: the cap)",
         lambda: u.GPUVAL_MONTECARLO(c("tam"), TAM_TABLE, DISTS, c(200_000), None, None,
                                     c(50.0))),
        ("GPUVAL_MONTECARLO (dcf, 1 input, 10,000 draws)",
         lambda: u.GPUVAL_MONTECARLO(c("dcf"), DCF_TABLE, [["growth_y2_5", "normal", 0.5, 0.1]],
                                     c(10_000))),
        ("error path: GPUVAL_PS with text where a number belongs",
         lambda: u.GPUVAL_PS(c("300bn"), c(1.5e9))),
        ("error path: GPUVAL_DATA with an unknown entity (cached)",
         lambda: u.GPUVAL_DATA(c("birne"), c("revenue"))),
    ]  # fmt: skip


def _quiet(fn: Callable[[], Any]) -> Callable[[], Any]:
    """``fn``, answering with the message where Office.js mode raises it as an error value."""

    def call() -> Any:
        try:
            return fn()
        except xlwings.XlwingsError as exc:
            return str(exc)

    return call


def per_call_us(fn: Callable[[], Any], repeat: int, loop_seconds: float) -> float:
    """Median of ``repeat`` timeit loops of about ``loop_seconds`` each, microseconds per call."""
    timer = timeit.Timer(fn)
    number = 1
    while (elapsed := timer.timeit(number)) < loop_seconds:
        number *= 2
    loops = [elapsed, *timer.repeat(repeat=repeat - 1, number=number)]
    return statistics.median(loops) / number * 1e6


def reference_us(repeat: int, loop_seconds: float) -> float:
    """The machine's speed in this run: ``numpy.ones(3)``, median microseconds per call."""
    return per_call_us(lambda: np.ones(3), repeat, loop_seconds)


def import_ms(statement: str, repeat: int) -> float:
    """Median wall time of a fresh ``python -c statement`` (whole process), milliseconds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XLWINGS")}
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True, env=env)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def cold_lookup_ms(repeat: int) -> float:
    """First GPUVAL_DATA call of a session: dataset loaded, validated and indexed (best of n)."""
    best = float("inf")
    for _ in range(repeat):
        data_udfs._catalogue.cache_clear()
        data_udfs._find.cache_clear()
        data_udfs._fx.cache_clear()
        t0 = time.perf_counter()
        udfs.GPUVAL_DATA(c("biren"), c("order_backlog"), None, c("biren.order_backlog"))
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def server_cases() -> list[tuple[str, Callable[[], Any]]]:
    """Full xlwings.server round trips (Office.js payload in, converted result out)."""
    import asyncio

    from xlwings import server

    loop = asyncio.new_event_loop()

    def call(name: str, *args: Any) -> Callable[[], Any]:
        data = {"func_name": name, "args": list(args), "version": xlwings.__version__,
                "client": "Office.js", "runtime": "1.4", "date_format": None,
                "culture_info_name": "en-US", "caller_address": "Sheet1!A1"}  # fmt: skip
        return lambda: loop.run_until_complete(server.custom_functions_call(data, udfs))

    return [
        ("GPUVAL_PS", call("GPUVAL_PS", c(300e9), c(1.5e9), None)),
        ("GPUVAL_TAM_PER_SHARE", call("GPUVAL_TAM_PER_SHARE", *[c(v) for v in TAM.values()])),
        ("GPUVAL_DATA", call("GPUVAL_DATA", c("biren"), c("order_backlog"), None,
                             c("biren.order_backlog"))),
        ("GPUVAL_PEER_STATS (6 peers)", call("GPUVAL_PEER_STATS", PEERS, c("Biren"))),
        ("GPUVAL_PS (10,000-cell result)", call("GPUVAL_PS",
                                                [[x] for x in np.linspace(1e9, 2e9, 100)],
                                                [list(np.linspace(1e8, 2e8, 100))])),
    ]  # fmt: skip


def machine() -> dict[str, str]:
    return describe(**{"numpy / xlwings": f"{np.__version__} / {xlwings.__version__}"})


def fmt_us(us: float | None) -> str:
    return "" if us is None else f"{us:,.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--loop-seconds", type=float, default=0.05,
                    help="length of one per-call timing loop")  # fmt: skip
    ap.add_argument("--xlwings-server", action="store_true",
                    help="also time xlwings.server.custom_functions_call round trips")  # fmt: skip
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS_udfs.md")
    args = ap.parse_args(argv)
    r, s = args.repeat, args.loop_seconds

    for label, udf, _, _ in scalar_cases():  # warm the caches and check every case works
        out = udf()
        if isinstance(out, str) and out.startswith("#GPUVAL!"):
            raise SystemExit(f"benchmark case {label!r} gave {out!r}")

    ref_before = reference_us(r, s)
    print("scalar UDFs ...", flush=True)
    scalars = []
    for label, udf, plain, core_fn in scalar_cases():
        a = per_call_us(udf, r, s)
        b = per_call_us(plain, r, s) if plain else None
        k = per_call_us(core_fn, r, s) if core_fn else None
        scalars.append((label, a, b, k))
        print(f"  {label}: {a:.1f} us", flush=True)

    print("array UDFs ...", flush=True)
    arrays = []
    for label, fn in array_cases():
        fn = _quiet(fn)
        out = fn()
        failed = isinstance(out, str) and out.startswith("#GPUVAL!")
        if failed != label.startswith("error path"):
            raise SystemExit(f"benchmark case {label!r} gave {out!r}")
        us = per_call_us(fn, r, s)
        arrays.append((label, us))
        print(f"  {label}: {us:,.1f} us", flush=True)

    ref_after = reference_us(r, s)
    cold = cold_lookup_ms(r)
    print("fresh-interpreter imports ...", flush=True)
    starts = [
        ("`import numpy` (reference)", import_ms("import numpy", r)),
        ("`import gpuval.excel.udfs` (every function)", import_ms("import gpuval.excel.udfs", r)),
        ("`import numpy, scipy.special` (reference: what the core needs)",
         import_ms("import numpy, scipy.special", r)),
    ]  # fmt: skip
    rounds = []
    if args.xlwings_server:
        print("xlwings.server round trips ...", flush=True)
        rounds = [(label, per_call_us(fn, r, s)) for label, fn in server_cases()]

    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    dcf = next((a, k) for label, a, _, k in scalars if label == TARGET_CASE)
    verdict = (
        f"met ({dcf[0]:.1f} us)"
        if dcf[0] <= TARGET_US
        else f"NOT met: {dcf[0]:.1f} us, of which the core function alone takes {dcf[1]:.1f} us"
    )
    lines = [
        "# xlwings UDF benchmarks",
        "",
        f"Recorded {now} by `python benchmarks/bench_udfs.py"
        + (" --xlwings-server" if args.xlwings_server else "")
        + (f" --repeat {r}" if r != 5 else "")
        + "`. Re-run the script to refresh this file.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in machine().items()],
        "",
        "## Scalar UDFs: Python time per call",
        "",
        f"`timeit`, median of {r} loops of about {s:g} s each. *Excel-shaped*: each argument a "
        "`[[x]]` one-cell range, as xlwings passes it with `ndim=2`; *plain*: Python floats; "
        "*core*: the core function alone (no coercion, no error guard). Reference measured in "
        f"the same run, `numpy.ones(3)`: {ref_before:.2f} us before the scalar cases, "
        f"{ref_after:.2f} us after the array cases. Target for `GPUVAL_DCF`: "
        f"<= {TARGET_US:g} microseconds per call, {verdict}.",
        "",
        "| UDF | Excel-shaped, us | plain, us | core alone, us |",
        "|---|---:|---:|---:|",
        *[f"| `{lbl}` | {fmt_us(a)} | {fmt_us(b)} | {fmt_us(k)} |" for lbl, a, b, k in scalars],
        "",
        "## Array and table UDFs: Python time per call",
        "",
        "| UDF call | microseconds per call |",
        "|---|---:|",
        *[f"| `{label}` | {us:,.1f} |" for label, us in arrays],
        "",
        "## Start-up: importing the functions",
        "",
        f"Whole process, `python -c ...`, median of {r} runs, beside references run alongside.",
        "",
        "| command | milliseconds |",
        "|---|---:|",
        *[f"| {label} | {ms:,.0f} |" for label, ms in starts],
        "",
        "## Dataset lookups",
        "",
        "Every lookup after the first is served from `functools` caches (dataset, index, "
        "resolved record). The first call of a session loads, validates and indexes the "
        f"embedded dataset: **{cold:,.0f} ms** (best of {r}, quotes checked against the seed "
        "articles when they are present, as here).",
        "",
    ]
    if rounds:
        lines += [
            "## Full xlwings.server round trips",
            "",
            "`xlwings.server.custom_functions_call` on an Office.js-shaped payload: xlwings' "
            "argument conversion, the UDF, xlwings' result conversion (what xlwings Lite and "
            "xlwings Server add per call; Excel's own calculation and transport come on top).",
            "",
            "| call | microseconds per call |",
            "|---|---:|",
            *[f"| `{label}` | {us:,.1f} |" for label, us in rounds],
            "",
        ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
