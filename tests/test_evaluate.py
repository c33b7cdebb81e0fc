"""gpuval evaluate: reads in_ cells, refuses bad workbooks with one sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from gpuval.cli import main
from gpuval.workbook.build import LAYOUT, LAYOUT_NAME, build
from gpuval.workbook.sheets.inputs import ALL
from workbook_helpers import named_cell


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("ev") / "gpu_valuation.xlsx")


def test_evaluate_json(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(built), "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    wb = load_workbook(built)
    assert set(result) == {n for n in wb.defined_names if n.startswith("out_")}
    # Hand check: the TAM scenario, Base case. TAM 2029 = 2012亿 USD; revenue 1.5% of it;
    # 15% margin; 30x; discounted at 12% over (2029-12-31 - 2026-01-05) / 365.25 years; 70%
    # success, 15% dilution; failing fetches 15% of the value if it succeeds; per share at
    # 855.4/110 HKD per USD.
    years = 1456 / 365.25
    success = (0.015 * 2012e8 * 0.15 * 30) * 1.12**-years / 1.15
    value = 0.7 * success + 0.3 * 0.15 * success
    per_share = value * (855.4 / 110) / (1027e8 / 42.88)
    assert result["out_value_per_share_base"] == pytest.approx(per_share, rel=1e-12)


def test_evaluate_table_says_each_values_unit(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The model keeps equity values in USD and shows the rest in the listing currency: the
    table says which (an analyst had read 1.25e10, USD, beside 1.09e11, CNY, as one currency)."""
    assert main(["evaluate", str(built), "--format", "table"]) == 0
    lines = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()}
    assert lines["out_dcf_equity_value"][1:] == ["USD"]
    assert lines["out_valuation_weighted"][1:] == ["HKD", "per", "share"]
    assert lines["out_valuation_upside"][1:] == ["fraction"]
    assert lines["out_backlog_forward_ps"] == ["77.621", "x"]  # 77.0 bn / 0.992 bn, rounded
    metax = build(tmp_path / "metax.xlsx", target="metax")  # no share count: equity values
    assert main(["evaluate", str(metax), "--format", "table"]) == 0
    lines = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()}
    assert lines["out_valuation_weighted"][1:] == ["CNY"]
    assert lines["out_equity_value_weighted"][1:] == ["USD"]


def test_evaluate_reads_edited_inputs(built: Path, tmp_path: Path) -> None:
    wb = load_workbook(built)
    named_cell(wb, "in_nvidia_fraction").value = 0.02
    edited = tmp_path / "e.xlsx"
    wb.save(edited)
    from gpuval.workbook.evaluate import evaluate

    # 2% of NVIDIA's market value on Peers, 4.89 tn USD
    assert evaluate(edited)["out_nvidia_share_equity_value"] == pytest.approx(0.02 * 4.89e12)


def _broken(built: Path, tmp_path: Path, change) -> Path:
    wb = load_workbook(built)
    change(wb)
    out = tmp_path / "broken.xlsx"
    wb.save(out)
    return out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda wb: wb.defined_names.pop("in_coe_base"),
         "has no usable defined name 'in_coe_base'"),
        (lambda wb: setattr(named_cell(wb, "in_coe_base"), "value", "twelve"),
         "Input in_coe_base (Assumptions!D"),
        (lambda wb: setattr(named_cell(wb, "in_tam_2024"), "value", None),
         "Input in_tam_2024 (Inputs!D"),
        (lambda wb: setattr(named_cell(wb, "in_exit_date"), "value", "end of 2029"),
         "must be a date"),
        (lambda wb: setattr(named_cell(wb, "in_target"), "value", "zz"),
         "Input in_target (Inputs!D6) is 'zz', which is not an id in the peer table"),
        (lambda wb: setattr(named_cell(wb, "in_share_base"), "value", 1.5),
         "the inputs are not valid: share must be between 0 and 1"),
    ],
)  # fmt: skip
def test_bad_workbook(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], change, message: str
) -> None:
    path = _broken(built, tmp_path, change)
    assert main(["evaluate", str(path)]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def _before_the_failure_value_changed(wb) -> None:
    """A workbook of the layout before the TAM value if it fails became a share of the value if
    it succeeds: its input was in_distress_<scenario>, a share of today's market value."""
    for s in ("bear", "base", "bull"):
        defined = wb.defined_names.pop(f"in_fail_fraction_{s}")
        defined.name = f"in_distress_{s}"
        wb.defined_names[defined.name] = defined
    wb.defined_names[LAYOUT_NAME].attr_text = '"2026-12-01.5"'


@pytest.mark.parametrize("command", ["evaluate", "refresh"])
def test_an_input_of_another_meaning_is_refused_not_misread(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """Reading the old share of market value as a share of the value if it succeeds would
    value the scenarios differently from the workbook's own cells, silently: both commands
    refuse, naming the layout, and refresh leaves the file as it was."""
    path = _broken(built, tmp_path, _before_the_failure_value_changed)
    before = path.read_bytes()
    assert main([command, str(path)]) == 1
    err = capsys.readouterr().err
    assert "'in_fail_fraction_bear'" in err and "Traceback" not in err
    assert (f"it was built with the layout of 2026-12-01.5, and this gpuval reads the layout of "
            f"{LAYOUT}, whose inputs differ; carry it into a new build with gpuval build --from "
            "WORKBOOK --out NEW") in err  # fmt: skip
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"hello", "is not an .xlsx file"), (b"PK\x03\x04broken", "is not an .xlsx file")],
)
def test_not_a_workbook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    assert main(["evaluate", str(path)]) == 1
    assert message in capsys.readouterr().err


def test_a_workbook_that_is_not_gpuval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "other.xlsx"
    Workbook().save(path)
    assert main(["evaluate", str(path)]) == 1
    assert "has no usable defined name 'in_target'" in capsys.readouterr().err


def test_every_input_name_is_read(built: Path) -> None:
    from gpuval.workbook.evaluate import read_inputs

    values = read_inputs(built)
    for spec in ALL:
        for name in spec.names():
            assert values[name] is not None, name


def test_a_companys_edits_survive_switching_the_target(built: Path, tmp_path: Path) -> None:
    """MetaX's Base share edited in its own column: Biren as the target does not see it, and
    switching back to MetaX finds it again."""
    wb = load_workbook(built)
    named_cell(wb, "in_target").value = "metax"
    named_cell(wb, "in_share_base").value = 0.04  # MetaX's column of the Assumptions sheet
    named_cell(wb, "in_target").value = "biren"
    biren = tmp_path / "biren.xlsx"
    wb.save(biren)
    named_cell(wb, "in_target").value = "metax"
    metax = tmp_path / "metax.xlsx"
    wb.save(metax)
    from gpuval.workbook.evaluate import read_inputs
    from gpuval.workbook.model import Inputs

    assert Inputs.from_names(read_inputs(biren)).scenarios["base"].share == 0.015  # generic
    assert Inputs.from_names(read_inputs(metax)).scenarios["base"].share == 0.04
    assert load_workbook(biren)["Assumptions"]["F8"].value == 0.04  # the edit is kept
