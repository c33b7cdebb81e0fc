"""The gpuval command: help, version, data in every format, errors without tracebacks; what a
fresh interpreter loads for the quick commands; the embedded dataset's validated snapshot."""

from __future__ import annotations

import csv
import importlib.metadata
import io
import json
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

import gpuval
import gpuval.embedded
from gpuval.cli import cli, main
from gpuval.data.dataset import COLUMNS, load_dataset


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--version")
    assert status == 0
    assert out.strip() == f"gpuval, version {importlib.metadata.version('gpuval')}"
    assert gpuval.__version__ == importlib.metadata.version("gpuval")


@pytest.mark.parametrize("command", [[], *[[name] for name in cli.commands]])
def test_help_on_every_command(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    status, out, _ = run(capsys, *command, "--help")
    assert status == 0
    assert out.startswith("Usage: ")
    assert "--help" in out


def test_data_json_has_every_record_with_the_agreed_keys(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run(capsys, "data", "--format", "json")
    assert status == 0
    rows = json.loads(out)
    assert len(rows) == len(load_dataset().records)
    for key in ("entity", "metric", "value", "unit", "period", "kind", "source", "quote"):
        assert all(key in row for row in rows), key
    backlog = next(r for r in rows if r["id"] == "biren.order_backlog")
    assert backlog["value"] == 1240000000  # plain units, printed as an integer
    assert backlog["unit"] == "CNY"
    assert "12.4億元人民幣" in backlog["quote"]
    assert backlog["source"] == "000_20127ad21e8e5e0e.txt"
    assert (backlog["entity_name_en"], backlog["entity_name_zh"]) == (
        "Biren Technology",
        "壁仞科技",
    )
    assert (backlog["exchange"], backlog["ticker"]) == ("HKEX", "06082.HK")


def test_data_csv_round_trips_values(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "data", "--format", "csv", "--entity", "fx")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == list(COLUMNS)
    rate = next(r for r in rows if r["id"] == "fx.usd_per_hkd")
    assert float(rate["value"]) == 110 / 855.4  # full precision survives the CSV


def test_data_filters(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys, "data", "-e", "metax", "-e", "biren", "-m", "revenue", "--format", "json"
    )
    assert status == 0
    rows = json.loads(out)
    assert {(r["entity"], r["metric"]) for r in rows} == {
        ("metax", "revenue"),
        ("biren", "revenue"),
    }


def test_data_table(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "data", "--entity", "biren")
    assert status == 0
    line = next(line for line in out.splitlines() if "biren.order_backlog " in line)
    assert "1,240,000,000" in line and "CNY" in line and "about" in line


def test_entities_and_fx(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "entities", "--format", "json")
    assert status == 0
    assert {"biren", "nvidia", "zhipu_ai"} <= {e["id"] for e in json.loads(out)}
    status, out, _ = run(capsys, "fx", "--set", "HKD per USD=7.8", "--format", "json")
    assert status == 0
    rates = {r["unit"]: r["rate"] for r in json.loads(out)}
    assert rates["HKD per USD"] == 7.8
    assert rates["CNY per HKD"] == pytest.approx(7.0 / 7.8)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data", "--entity", "nope"], "gpuval: error: Unknown entity 'nope'"),
        (["data", "--format", "xml"], "gpuval: error: Invalid value for '--format'"),
        (["data", "--dataset", "/nonexistent/x.toml"], "gpuval: error: Cannot read dataset"),
        (["data", "--seeds", "/nonexistent"], "gpuval: error: Seed directory /nonexistent"),
        (["fx", "--set", "USD=1"], "gpuval: error: FX override 'USD=1' is not of the form"),
        (["frobnicate"], "gpuval: error: No such command 'frobnicate'"),
    ],
)
def test_errors_are_one_sentence(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    status, _, err = run(capsys, *args)
    assert status != 0
    assert err.startswith(message)
    assert err.count("\n") == 1 and "Traceback" not in err


def test_internal_errors_hide_the_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: object, **__: object) -> None:
        raise KeyError("x")

    monkeypatch.setattr("gpuval.cli._snapshot", boom)
    monkeypatch.delenv("GPUVAL_DEBUG", raising=False)
    status, _, err = run(capsys, "data")
    assert status == 2
    assert err.startswith("gpuval: internal error: KeyError")
    assert "Traceback" not in err


def test_console_script_runs() -> None:
    """The installed entry point, as an analyst runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "gpuval.cli", "data", "--entity", "biren", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert any(r["id"] == "biren.ipo_offer_price" for r in json.loads(done.stdout))


# --- A quick command line: what each command loads -------------------------------------------

HEAVY = ("pandas", "pydantic", "openpyxl", "scipy", "numpy", "xlwings", "lxml")

_PROBE = """
import json, sys
from gpuval.cli import main
status = main(sys.argv[1:])
sys.stdout.flush()
print(json.dumps({"status": status, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _fresh(*args: str) -> tuple[int, str, set[str]]:
    """Run the command as the console script does, in a fresh interpreter: status, stdout and
    the modules it loaded."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, check=False
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["status"], done.stdout, set(report["modules"])


@pytest.mark.parametrize(
    "args", [["--version"], ["--help"], ["data"], ["entities"], ["data", "-e", "biren"]]
)
def test_quick_commands_load_no_heavy_library(args: list[str]) -> None:
    status, out, modules = _fresh(*args)
    assert status == 0 and out
    assert not {m.split(".")[0] for m in modules} & set(HEAVY)


def test_quick_commands_print_what_they_should_in_a_fresh_interpreter() -> None:
    status, out, _ = _fresh("--version")
    assert (status, out) == (0, f"gpuval, version {importlib.metadata.version('gpuval')}\n")
    status, out, _ = _fresh("data", "--format", "json")
    assert status == 0
    assert json.loads(out) == load_dataset().rows()  # 1240000000 == 1240000000.0
    status, out, _ = _fresh("--help")
    assert status == 0 and all(name in out for name in cli.commands)


def test_the_probe_sees_a_heavy_import() -> None:
    """The check above can fail: a command that validates the dataset is seen loading pydantic."""
    _, _, modules = _fresh("fx")
    assert "pydantic" in modules


# --- The embedded dataset's snapshot gives what validation gives ----------------------------


def _validated(args: list[str]) -> str:
    """The command's stdout with the snapshot switched off (the dataset validated in full)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(gpuval.embedded, "quick_dataset", lambda: None)
        return _captured(args)


def _captured(args: list[str]) -> str:
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "stdout", out)
        mp.setattr(sys, "stderr", err)
        status = main(args)
    return f"status {status}\n{out.getvalue()}\n--- stderr\n{err.getvalue()}"


def test_the_committed_snapshot_is_current(seeds_dir: Path) -> None:
    made = json.loads(json.dumps(gpuval.embedded.build_snapshot(seeds_dir)))
    committed = gpuval.embedded.SNAPSHOT_FILE.read_text(encoding="utf-8")
    assert json.loads(committed) == made, (
        "src/gpuval/data/embedded_snapshot.json is stale: run `python -m gpuval.embedded`"
    )


def test_the_snapshot_applies_in_this_checkout() -> None:
    snap = gpuval.embedded.quick_dataset()
    assert snap is not None, "the snapshot is stale: run `python -m gpuval.embedded`"
    assert snap.rows == load_dataset().rows()
    assert snap.entities == [e.model_dump() for e in load_dataset().entities.values()]


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
@pytest.mark.parametrize(
    "filters",
    [
        [],
        ["-e", "biren"],
        ["-e", "fx", "-e", "nvidia"],
        ["-m", "revenue"],
        ["-e", "biren", "-m", "x"],
    ],
)
def test_data_from_the_snapshot_is_what_validation_prints(fmt: str, filters: list[str]) -> None:
    args = ["data", "--format", fmt, *filters]
    quick = _captured(args)
    assert quick.startswith("status 0")
    assert quick == _validated(args)


@pytest.mark.parametrize(
    "args",
    [
        ["entities"],
        ["entities", "--format", "json"],
        ["entities", "--format", "csv"],
        ["data", "-e", "nope"],
        ["data", "-e", "biren", "-e", "Biren"],
    ],
)
def test_entities_and_errors_from_the_snapshot_are_what_validation_prints(args: list[str]) -> None:
    assert _captured(args) == _validated(args)


@pytest.fixture
def package_copy(tmp_path: Path, seeds_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of what the snapshot was made from, which the quick path then reads."""
    package = Path(gpuval.embedded.__file__).parent
    for name in ("data/dataset.toml", *gpuval.embedded.CODE_FILES):
        (tmp_path / "pkg" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(package / name, tmp_path / "pkg" / name)
    shutil.copytree(seeds_dir, tmp_path / "seeds")
    monkeypatch.setattr(gpuval.embedded, "_PACKAGE", tmp_path / "pkg")
    monkeypatch.setenv("GPUVAL_SEEDS", str(tmp_path / "seeds"))
    assert gpuval.embedded.quick_dataset() is not None  # an unchanged copy is trusted
    return tmp_path


@pytest.mark.parametrize(
    "changed", ["pkg/data/dataset.toml", "pkg/data/numbers.py", "seeds/000_20127ad21e8e5e0e.txt"]
)
def test_the_snapshot_is_refused_when_what_it_was_made_from_changes(
    package_copy: Path, changed: str
) -> None:
    with (package_copy / changed).open("a", encoding="utf-8") as file:
        file.write("\n# an edit\n")
    assert gpuval.embedded.quick_dataset() is None


def test_the_snapshot_is_refused_when_a_seed_is_missing(package_copy: Path) -> None:
    (package_copy / "seeds" / "003_060f8119ece32c9e.txt").unlink()
    assert gpuval.embedded.quick_dataset() is None


def test_without_seeds_the_snapshot_says_quotes_were_not_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("gpuval.data.dataset.default_seeds_dir", lambda: None)
    snap = gpuval.embedded.quick_dataset()
    assert snap is not None and not snap.seeds_checked
    assert "gpuval: note: seed articles not found" in _captured(["data", "-e", "biren"])
    assert _captured(["data", "-e", "biren"]) == _validated(["data", "-e", "biren"])


# --- Output formats, checked against independent readers and writers ------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["data", "--format", "csv"],
        ["entities", "--format", "csv"],
        ["fx", "--format", "csv"],
        ["data", "--quality", "--format", "csv"],
    ],
)
def test_csv_is_what_pandas_writes(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    """The CSV writer (stdlib csv) gives byte for byte what pandas' to_csv gave before it."""
    import pandas as pd

    formula_like = ("=", "+", "-", "@", "\t", "\r")  # OWASP: shown as text, with an apostrophe
    status, out, _ = run(capsys, *args)
    assert status == 0
    frame = pd.read_csv(io.StringIO(out), dtype=str, keep_default_na=False)
    header = list(frame.columns)
    rows = _rows_behind(args)
    expected = pd.DataFrame(
        [{k: ("'" + v if isinstance(v, str) and v[:1] in formula_like else v) for k, v in r.items()}
         for r in rows],
        columns=header,
    ).to_csv(index=False, float_format="%.17g")  # fmt: skip
    assert out == expected


def _rows_behind(args: list[str]) -> list[dict[str, object]]:
    """The rows a command prints, taken from the library, not from the CLI."""
    ds = load_dataset()
    if args[0] == "entities":
        return [e.model_dump() for e in ds.entities.values()]
    if args[0] == "fx":
        from gpuval.data.fx import FxRates

        return FxRates.from_dataset(ds).table()
    if "--quality" in args:
        from gpuval.data.quality import check_relations

        return [
            {
                "status": "ok" if c.consistent else "INCONSISTENT",
                "relation": c.kind,
                "stated": c.stated.id,
                "stated_value": c.stated.value,
                "inputs": ", ".join(r.id for r in c.inputs),
                "computed_value": c.computed,
                "gap": c.gap,
                "relative_gap": c.relative_gap,
                "finding": c.describe(),
            }
            for c in check_relations(ds)
        ]
    return ds.rows()


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def test_table_columns_line_up_with_chinese_names(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "entities")
    assert status == 0
    header, *lines = out.splitlines()
    biren = next(line for line in lines if line.startswith("biren "))
    start = header.index("kind")  # the column after the Chinese names
    before = biren[: biren.index("company")]
    assert "壁仞科技" in before
    assert _display_width(before) == start


def test_table_numbers_are_right_aligned(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "data", "-e", "biren", "-m", "ipo_offer_price", "-m", "revenue")
    assert status == 0
    header, *lines = out.splitlines()
    end = header.index("value") + len("value")
    values = {line.split()[0]: line[:end].split()[-1] for line in lines}
    assert values["biren.ipo_offer_price"] == "19.6"
    assert values["biren.revenue.2024"] == "337,000,000"
    assert all(line[end] == " " and line[end - 1] != " " for line in lines)


def test_empty_selection(capsys: pytest.CaptureFixture[str]) -> None:
    for fmt, expected in [("table", "(no records)\n"), ("json", "[]\n"), ("csv", None)]:
        status, out, _ = run(capsys, "data", "-m", "no_such_metric", "--format", fmt)
        assert status == 0
        if expected is None:
            assert out == ",".join(COLUMNS) + "\n"
        else:
            assert out == expected


def test_build_from_says_what_it_carried_and_refuses_a_file_not_gpuvals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--from`` a MetaX workbook whose Base share the analyst set to 3%: the new build values
    MetaX with it, and says so; a workbook gpuval did not build is one sentence."""
    from openpyxl import Workbook, load_workbook

    from gpuval.pipeline.names import named_cells

    old = tmp_path / "old.xlsx"
    assert main(["build", "--target", "metax", "--out", str(old)]) == 0
    wb = load_workbook(old)
    ids = [f.value for f in named_cells(wb, "data_assumption_ids")]
    sheet, cell = named_cells(wb, "in_share_base")[ids.index("metax")].where.split("!")
    wb[sheet][cell] = 0.03
    wb.save(old)
    capsys.readouterr()
    new = tmp_path / "new.xlsx"
    assert main(["build", "--from", str(old), "--out", str(new)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[1] == "gpuval: carried 1 input value(s), 0 typed companies and 0 stored price(s)"
    carried = load_workbook(new)
    assert named_cells(carried, "in_target")[0].value == "metax"
    assert named_cells(carried, "in_share_base")[ids.index("metax")].value == 0.03
    # another target: the old one's inputs, this target (not written back by the carry)
    assert main(["build", "--from", str(old), "--target", "biren", "--out", str(new),
                 "--force"]) == 0  # fmt: skip
    assert named_cells(load_workbook(new), "in_target")[0].value == "biren"
    capsys.readouterr()
    foreign = tmp_path / "foreign.xlsx"
    Workbook().save(foreign)
    assert main(["build", "--from", str(foreign), "--out", str(tmp_path / "x.xlsx")]) == 1
    (line,) = [x for x in capsys.readouterr().err.splitlines() if x]
    assert line.startswith("gpuval: error: ") and "foreign.xlsx" in line


def test_build_from_names_an_id_on_two_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from openpyxl import load_workbook

    old = tmp_path / "old.xlsx"
    assert main(["build", "--out", str(old)]) == 0
    wb = load_workbook(old)
    row = next(c.row for c in wb["Peers"]["A"] if c.value == "kunlunxin")
    wb["Peers"][f"A{row}"] = "Biren"  # a typed company under Biren's id, in another case
    wb.save(old)
    capsys.readouterr()
    assert main(["build", "--from", str(old), "--out", str(tmp_path / "new.xlsx")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert (
        err[1] == "gpuval: carried 0 input value(s), 1 typed company (Biren) and 0 stored price(s)"
    )
    assert (
        "gpuval: the id 'Biren' is on two rows (in any case): give each company its own id (the "
        "checks and refresh ask for it)" in err
    )
