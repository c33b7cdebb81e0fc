"""The gpuval command: help, version, data in every format, errors without tracebacks."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

import gpuval
from gpuval.cli import cli, main
from gpuval.data.dataset import COLUMNS, load_dataset


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--version")
    assert status == 0
    assert out.strip() == f"gpuval, version {gpuval.__version__}"


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

    monkeypatch.setattr("gpuval.cli.load_dataset", boom)
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
