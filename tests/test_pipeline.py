"""check, refresh and publish on real workbooks; the tests marked ``libreoffice`` recalculate them
in LibreOffice (check and publish do), the others run everywhere."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.comments import Comment

from gpuval.cli import main
from gpuval.errors import GpuvalError
from gpuval.pipeline.check import check_workbook
from gpuval.pipeline.findings import CheckResult
from gpuval.pipeline.publish import publish, refusal
from gpuval.pipeline.recalc import recalculate, render_pngs
from gpuval.pipeline.refresh import refresh
from gpuval.pipeline.udf_freeze import evaluate_udf
from gpuval.workbook.build import build
from gpuval.workbook.evaluate import evaluate, open_workbook
from workbook_helpers import close, formulas_without_values, named_cell

TODAY = dt.date(2026, 11, 21)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("pipe") / "gpu_valuation.xlsx")


@pytest.fixture
def copy(built: Path, tmp_path: Path) -> Path:
    target = tmp_path / "analyst.xlsx"
    shutil.copy(built, target)
    return target


def prices_csv(folder: Path, price: float = 41.5, date: str = "2026-11-20") -> Path:
    path = folder / "prices.csv"
    path.write_text(
        "entity,date,price,currency,shares\n"
        f"06082.HK,{date},{price},HKD,\n"
        "nvidia,2026-11-19,180.0,USD,24300000000\n",
        encoding="utf-8",
    )
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def charts(ws: Any) -> int:
    """The number of charts on a worksheet (openpyxl keeps them in a private list)."""
    return len(ws._charts)


# --- check -------------------------------------------------------------------------------------


#: The one market figure a fresh Biren workbook uses is Biren's price of 2026-01-05 (no peer
#: reports FY2024 like Biren; "x% of NVIDIA" has weight 0): on 2026-01-20 it is 15 days old, so a
#: fresh build passes on that day with the default limit, 30 days.
FRESH = 30


@pytest.mark.libreoffice
def test_check_passes_on_a_fresh_build(built: Path) -> None:
    report = check_workbook(built, today=dt.date(2026, 1, 20), max_age_days=FRESH)
    assert report.passed, report.as_dict()


@pytest.mark.libreoffice
def test_check_flags_old_data(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(built), "--today", "2026-11-21"]) == 1
    out = capsys.readouterr().out
    # each used figure by its date cell (column Q): Biren 2026-01-05 -> 2026-11-21 is 320 days
    # (26 + 28 + 31 + 30 + 31 + 30 + 31 + 31 + 30 + 31 + 21); NVIDIA's older price (2025-10-29)
    # and MetaX's month (2025-12) are not used: a weight-0 reference, a peer of another year
    assert "Peers!Q6 biren price (2026-01-05 share price, derived) dated 2026-01-05 is 320 " in out
    assert " nvidia " not in out and " metax " not in out
    assert main(["check", str(built), "--today", "2026-11-21", "--max-age-days", "319"]) == 1
    assert main(["check", str(built), "--today", "2026-11-21", "--max-age-days", "320"]) == 0


@pytest.mark.libreoffice
def test_a_fresh_nvidia_price_does_not_make_the_targets_stale_price_pass(copy: Path) -> None:
    # Only NVIDIA's price is new: the newest date is then 2026-11-19, but the target's own
    # price (Biren 2026-01-05) is 320 days old on 2026-11-21 and must fail the check by name.
    prices = copy.parent / "nvidia.csv"
    prices.write_text("entity,date,price,currency\nnvidia,2026-11-19,180.0,USD\n")
    refresh(copy, prices=prices)
    report = check_workbook(copy, today=TODAY)
    age = next(r for r in report.results if r.name == "data_age")
    assert not age.passed
    stale = ("Peers!Q6 biren price (2026-01-05 share price, derived) dated 2026-01-05 is 320 "
             "days old (limit 30)")  # fmt: skip
    assert stale in age.details
    assert not any(" nvidia " in d for d in age.details)  # 2 days old: within the limit
    values = report.values
    assert values is not None
    assert named_cell(values, "data_asof").value == dt.datetime(2026, 1, 5)  # Biren's price


@pytest.mark.libreoffice
def test_a_figure_the_valuation_does_not_use_does_not_date_it(copy: Path) -> None:
    # "x% of NVIDIA" given a weight: NVIDIA's 2025-10-29 price is used, 83 days old on
    # 2026-01-20 (2 + 30 + 31 + 20); on the peak input it is not, and the as-of is Biren's again
    wb = load_workbook(copy)
    named_cell(wb, "in_weight_nvidia").value = 0.1
    named_cell(wb, "in_weight_tam").value = 0.3  # the weights still sum to 100 %
    wb.save(copy)
    late = check_workbook(copy, today=dt.date(2026, 1, 20), max_age_days=82)
    age = next(r for r in late.results if r.name == "data_age")
    assert [d.split(" dated ")[0] for d in age.details] == [
        "Peers!Q12 nvidia price (2025-10-29 share price)"
    ]
    named_cell(wb, "in_nvidia_value_basis").value = "peak"
    wb.save(copy)
    report = check_workbook(copy, today=dt.date(2026, 1, 20), max_age_days=15)
    assert report.passed, report.as_dict()
    assert report.values is not None
    assert named_cell(report.values, "data_asof").value == dt.datetime(2026, 1, 5)


@pytest.mark.libreoffice
def test_check_catches_a_constant_over_a_formula_and_a_ref_error(copy: Path) -> None:
    wb = load_workbook(copy)
    wb["Scenarios"]["D8"] = 123.0  # Base revenue, overwritten
    wb["DCF"]["E9"] = "=D9*#REF!"  # a planted #REF!
    wb.save(copy)
    report = check_workbook(copy, today=dt.date(2026, 1, 20))
    results = {r.name: r for r in report.results}
    assert not report.passed
    assert any("Scenarios!D8: the formula =D7*D6 was replaced by the constant 123" in d
               for d in results["formulas"].details)  # fmt: skip
    assert any(d.startswith("DCF!E9: formula changed") for d in results["formulas"].details)
    assert results["errors"].details[0] == "DCF!E9 = #REF! (in its own formula =D9*#REF!)"
    assert not results["outputs"].passed  # the core no longer agrees with the sheet


@pytest.mark.libreoffice
def test_check_json_and_exit_status(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["check", str(copy), "--format", "json", "--today", "2026-01-20"]
    assert main([*args, "--max-age-days", str(FRESH)]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["passed"] is True
    assert [c["name"] for c in body["checks"]] == ["errors", "formulas", "outputs", "master",
                                                   "snapshot", "bounds", "plausible",
                                                   "data_age"]  # fmt: skip


# --- refresh -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lock", ["~$analyst.xlsx", ".~lock.analyst.xlsx#"])
def test_refresh_refuses_an_open_workbook(copy: Path, lock: str) -> None:
    (copy.parent / lock).write_text("locked")
    before = sha(copy)
    with pytest.raises(GpuvalError, match=r"is open in (Excel|LibreOffice)"):
        refresh(copy)
    assert sha(copy) == before


def test_refresh_refuses_a_second_concurrent_refresh(copy: Path) -> None:
    (copy.parent / f".{copy.name}.gpuval-lock").write_text("1")  # pid 1 is alive
    with pytest.raises(GpuvalError, match="being refreshed or published by another gpuval"):
        refresh(copy)


def test_refresh_failure_mid_save_keeps_the_original(
    copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = copy.read_bytes()

    def broken(self, filename: str) -> None:
        Path(filename).write_bytes(b"PK\x03\x04 half a workbook")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("gpuval.pipeline.xlsxpatch.package.Package.save", broken)
    with pytest.raises(GpuvalError, match=r"^Cannot write the refreshed workbook .*analyst\.xlsx: "
                       r"No space left on device\.$"):  # fmt: skip
        refresh(copy, prices=prices_csv(copy.parent))
    assert copy.read_bytes() == before
    # no backup either: it would be the workbook as it is (each retry on a full disk had left
    # one more)
    leftovers = {p.name for p in copy.parent.iterdir()} - {"analyst.xlsx", "prices.csv"}
    assert leftovers == set()


def test_refresh_applies_prices_and_reports(copy: Path) -> None:
    report = refresh(copy, prices=prices_csv(copy.parent))
    assert report.backup is not None and report.backup.exists()
    lines = "\n".join(report.lines())
    assert "Peers biren price: 35.7152 -> 41.5" in lines
    # the one used figure is Biren's own price: 2026-01-05, now 2026-11-20
    assert "oldest market figure used: 2026-01-05 -> 2026-11-20" in lines
    assert "out_value_per_share_base" not in lines  # per-share values do not move with price
    assert "out_upside_weighted" in lines  # upside does
    outputs = evaluate(copy)
    # Biren's market value is now 41.5 x (1027亿 / 42.88) shares x 110/855.4 USD per HKD,
    # against NVIDIA's on Peers, refreshed too: 180 USD x 24.3 bn shares.
    shares = 1027e8 / 42.88
    assert outputs["out_implied_nvidia_fraction"] == pytest.approx(
        41.5 * shares * (110 / 855.4) / (180.0 * 24.3e9), rel=1e-12
    )


def test_refresh_reset_inputs_restores_defaults_and_keeps_the_target(copy: Path) -> None:
    wb = load_workbook(copy)
    named_cell(wb, "in_target").value = "metax"
    named_cell(wb, "in_share_base").value = 0.07
    named_cell(wb, "in_tam_2029").value = 1.5e11  # a sourced input the analyst overrode
    wb.save(copy)
    report = refresh(copy, reset_inputs=True)
    after = load_workbook(copy)
    assert named_cell(after, "in_target").value == "metax"
    assert named_cell(after, "in_share_base").value == 0.025  # MetaX's own Base default
    assert named_cell(after, "in_tam_2029").value == 2012e8  # the dataset's 2012億美元
    assert {c.where for c in report.changes} >= {"in_share_base (metax)", "in_tam_2029"}


analyst_edits = st.fixed_dictionaries(
    {
        "in_share_base": st.floats(0.001, 0.2),
        "in_exit_pe_bull": st.floats(5, 80),
        "in_dcf_tax_rate": st.floats(0, 0.4),
        "sheet_text": st.text(alphabet="abc XYZ 0123 利润率,.;%()", min_size=1, max_size=30),
        "comment": st.text(alphabet="abc 123 利润", min_size=1, max_size=40),
        "price": st.floats(5, 200),
    }
)  # fmt: skip


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # each example refreshes: no shrink
)
@given(edits=analyst_edits)
def test_refresh_keeps_every_analyst_edit(built: Path, tmp_path_factory, edits) -> None:
    folder = tmp_path_factory.mktemp("edit")
    path = folder / "analyst.xlsx"
    shutil.copy(built, path)
    wb = load_workbook(path)
    for name in ("in_share_base", "in_exit_pe_bull", "in_dcf_tax_rate"):
        named_cell(wb, name).value = edits[name]
    mine = wb.create_sheet("My notes")
    mine["A1"] = edits["sheet_text"]
    mine["B2"] = 42.0
    named_cell(wb, "in_coe_base").comment = Comment(edits["comment"], "analyst")
    wb["Inputs"]["G20"] = "my view: " + edits["comment"]
    wb.save(path)
    saved = load_workbook(path)  # the analyst's values as stored in the file
    kept = {n: named_cell(saved, n).value for n in ("in_share_base", "in_exit_pe_bull",
                                                    "in_dcf_tax_rate")}  # fmt: skip

    refresh(path, prices=prices_csv(folder, price=round(edits["price"], 4)))

    after = load_workbook(path)
    for name, value in kept.items():
        assert named_cell(after, name).value == value
        assert value == pytest.approx(edits[name], rel=1e-15)
    assert after["My notes"]["A1"].value == edits["sheet_text"]
    assert after["My notes"]["B2"].value == 42.0
    assert named_cell(after, "in_coe_base").comment.text == edits["comment"]
    assert after["Inputs"]["G20"].value == "my view: " + edits["comment"]
    peer_price = after["Peers"]["F6"]
    assert after["Peers"]["A6"].value == "biren" and peer_price.value == round(edits["price"], 4)
    assert {ws.title: charts(ws) for ws in after.worksheets if charts(ws)} == {
        "Valuation": 1, "Scenarios": 2, "Peer statistics": 2, "DCF": 1,
        "Monte Carlo": 1}  # fmt: skip
    assert len(after["Inputs"].data_validations.dataValidation) > 15
    assert len(after["Assumptions"].data_validations.dataValidation) > 40


def test_refresh_keeps_content_openpyxl_would_drop(copy: Path) -> None:
    import zipfile

    with zipfile.ZipFile(copy, "a") as archive:
        archive.writestr("xl/media/image1.png", b"\x89PNG....")
    refresh(copy)  # refresh patches the package in place (tests/test_refresh*.py go further)
    with zipfile.ZipFile(copy) as archive:
        assert archive.read("xl/media/image1.png") == b"\x89PNG...."


def test_refresh_not_a_gpuval_workbook(tmp_path: Path) -> None:
    from openpyxl import Workbook

    other = tmp_path / "other.xlsx"
    Workbook().save(other)
    with pytest.raises(GpuvalError, match=r"other\.xlsx is not a gpuval workbook"):
        refresh(other)


# --- publish -----------------------------------------------------------------------------------


def test_a_refusal_ends_its_finding_once() -> None:
    failed = [CheckResult("outputs", "Outputs", False, ["Input x (Peers!F9) must be a number."]),
              CheckResult("master", "Master", False, [])]  # fmt: skip
    assert refusal("a.xlsx", failed) == (
        "a.xlsx fails 2 check(s), first 'outputs': Input x (Peers!F9) must be a number; fix it "
        "or publish with --force (the copy is then stamped UNCHECKED)."
    )


@pytest.mark.libreoffice
def test_publish_refuses_on_failing_check_unless_forced(copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    with pytest.raises(GpuvalError, match="fails 1 check\\(s\\), first 'data_age'") as caught:
        publish(copy, out_dir=out, today=TODAY)
    assert "(or allow older market figures with --max-age-days) or publish with --force" in str(
        caught.value
    )
    assert not out.exists() or not list(out.iterdir())
    report = publish(copy, out_dir=out, today=TODAY, force=True)
    stamped = named_cell(load_workbook(report.outputs[0], data_only=True), "pub_stamp").value
    assert "UNCHECKED" in stamped


@pytest.mark.libreoffice
def test_a_publish_that_fails_writing_leaves_no_half_publication(
    copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills while the manifest is written: the workbook copied before it is removed,
    so no later publish takes a workbook without its manifest for an earlier publication."""
    from gpuval.pipeline import publish as module

    def full(path: Path, write: object) -> Path:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(module, "replace_atomically", full)
    out = tmp_path / "dist"
    with pytest.raises(OSError) as caught:
        publish(copy, out_dir=out, today=TODAY, force=True)
    assert caught.value.filename == str(out / "analyst_2026-01-05.manifest.json")
    assert list(out.iterdir()) == []


@pytest.mark.libreoffice
def test_publish_after_refresh(copy: Path, tmp_path: Path) -> None:
    refresh(copy, prices=prices_csv(copy.parent))
    out = tmp_path / "dist"
    # Biren's refreshed price of 2026-11-20 is the one used figure: 1 day old
    report = publish(copy, out_dir=out, pdf=True, today=TODAY, max_age_days=1)
    xlsx, pdf = report.outputs
    assert xlsx.name == "analyst_2026-11-20.xlsx" and pdf.suffix == ".pdf"
    formulas = load_workbook(xlsx)
    values = load_workbook(xlsx, data_only=True)
    empty = formulas_without_values(xlsx)
    assert empty == []  # every formula carries its computed value  # fmt: skip
    assert "check passed" in named_cell(values, "pub_stamp").value
    expected = evaluate(copy)
    for name, value in expected.items():
        assert close(named_cell(values, name).value, value), name
    assert {ws.title: charts(ws) for ws in formulas.worksheets if charts(ws)}["Valuation"] == 1
    assert report.manifest is not None
    manifest = json.loads(report.manifest.read_text())
    assert manifest["files"] == {xlsx.name: sha(xlsx), pdf.name: sha(pdf)}
    assert manifest["check"] == "passed" and manifest["max_age_days"] == 1  # what it passed at
    pages = render_pngs(pdf, tmp_path / "png", dpi=30)
    assert len(pages) >= 12
    # each page's footer names the workbook published (it named LibreOffice's scratch copy)
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], check=True,
                           capture_output=True, text=True).stdout  # fmt: skip
    assert copy.name in first and "workbook.xlsx" not in first


# --- the UDF working copy ----------------------------------------------------------------------


@pytest.mark.libreoffice
def test_udf_copy_matches_native_formulas(tmp_path: Path) -> None:
    path = build(tmp_path / "udf.xlsx", udf=True)
    formulas = open_workbook(path)
    assert formulas["xlwings.conf"]["A1"].value == "UDF Modules"
    assert formulas["xlwings.conf"]["B1"].value == "gpuval.excel.udfs"
    values = open_workbook(recalculate(path, tmp_path / "udf_recalc.xlsx"), data_only=True)
    ws = formulas["UDF check"]
    rows = range(5, 14)
    for r in rows:
        udf = ws.cell(r, 2).value
        assert isinstance(udf, str) and udf.startswith("=GPUVAL_")
        native = values["UDF check"].cell(r, 3).value
        assert close(evaluate_udf(udf, values, f"UDF check!B{r}"), native), ws.cell(r, 1).value


def test_default_workbook_has_no_udf_calls(built: Path) -> None:
    wb = load_workbook(built)
    assert "xlwings.conf" not in wb.sheetnames
    calls = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and "GPUVAL_" in c.value.upper()]  # fmt: skip
    assert calls == []


@pytest.mark.libreoffice
def test_publish_freezes_udfs_and_drops_xlwings_conf(tmp_path: Path) -> None:
    path = build(tmp_path / "udf.xlsx", udf=True)
    report = publish(path, out_dir=tmp_path / "dist", today=dt.date(2026, 1, 20),
                     max_age_days=FRESH)  # fmt: skip
    formulas = load_workbook(report.outputs[0])
    assert "xlwings.conf" not in formulas.sheetnames
    assert formulas["Peers"].sheet_format.outlineLevelCol == 1  # openpyxl's save drops it
    cells = [formulas["UDF check"].cell(r, 2).value for r in range(5, 14)]
    assert all(isinstance(v, int | float) for v in cells), cells
    values = load_workbook(report.outputs[0], data_only=True)
    differences = [values["UDF check"].cell(r, 4).value for r in range(5, 14)]
    for difference, frozen in zip(differences, cells, strict=True):
        assert isinstance(difference, int | float) and isinstance(frozen, int | float)
        assert abs(difference) <= 1e-9 * max(1.0, abs(frozen)), differences


# --- found in review ---------------------------------------------------------------------------


def test_refresh_keeps_permissions_and_never_overwrites_a_backup(copy: Path) -> None:
    copy.chmod(0o644)
    now = dt.datetime(2026, 11, 21, 9, 30, 0)
    first = refresh(copy, prices=prices_csv(copy.parent, price=40.0), now=now)
    second = refresh(copy, prices=prices_csv(copy.parent, price=41.0), now=now)
    assert copy.stat().st_mode & 0o777 == 0o644
    assert first.backup is not None and second.backup is not None
    assert first.backup != second.backup and first.backup.exists() and second.backup.exists()
    assert load_workbook(first.backup)["Peers"]["F6"].value == pytest.approx(35.7152, rel=1e-5)
    assert load_workbook(second.backup)["Peers"]["F6"].value == 40.0


def test_refresh_notes_prices_it_cannot_use(copy: Path) -> None:
    prices = copy.parent / "zhipu.csv"
    prices.write_text("entity,date,price,currency\nzhipu_ai,2026-01-09,100,HKD\n")
    report = refresh(copy, prices=prices)
    assert "zhipu_ai: not in the workbook's peer table; its price was not used." in report.notes


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("in_target", "Biren", "in_target 'Biren' is not an id in the peer table"),
        (
            "in_fx_cny_per_usd",
            0,
            "in_fx_cny_per_usd = 0 is outside its bounds 4 .. 12 (FX: CNY per USD, Inputs)",
        ),
    ],
)
def test_refresh_with_inputs_the_core_refuses(copy: Path, name: str, value, message: str) -> None:
    wb = load_workbook(copy)
    named_cell(wb, name).value = value
    wb.save(copy)
    report = refresh(copy)  # the data is still refreshed; the note says why nothing was valued
    assert any(message in note for note in report.notes), report.notes


def test_unwritable_destination_is_one_sentence(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["build", "--out", str(blocker / "x.xlsx")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("gpuval: error: cannot write or read") and err.count("\n") == 1


@pytest.mark.libreoffice
def test_check_refuses_future_market_data(copy: Path) -> None:
    prices = copy.parent / "future.csv"
    prices.write_text("entity,date,price,currency\nbiren,2099-01-06,40,HKD\n")
    # refresh refuses a date after its today: a clock set wrong, or the date typed on Peers
    refresh(copy, prices=prices, now=dt.datetime(2099, 1, 7))
    report = check_workbook(copy, today=TODAY)
    age = next(r for r in report.results if r.name == "data_age")
    assert not age.passed and "after 2026-11-21" in age.details[0]


@pytest.mark.libreoffice
def test_text_in_an_input_is_named_before_the_errors_it_causes(copy: Path) -> None:
    wb = load_workbook(copy)
    named_cell(wb, "in_fx_cny_per_usd").value = "seven"
    wb.save(copy)
    report = check_workbook(copy, today=TODAY)
    errors = next(r for r in report.results if r.name == "errors")
    assert not errors.passed and len(errors.details) > 2  # the #VALUE! it spreads
    assert errors.details[0] == (
        "likely cause: Input in_fx_cny_per_usd (Inputs!D10) must be a number, got 'seven'."
    )


@pytest.mark.libreoffice
def test_inconsistent_dates_fail_the_models_own_checks(built: Path, tmp_path: Path) -> None:
    path = tmp_path / "dates.xlsx"
    wb = load_workbook(built)
    named_cell(wb, "in_valuation_date").value = dt.datetime(2033, 4, 4)
    wb.save(path)
    values = load_workbook(recalculate(path, tmp_path / "r.xlsx"), data_only=True)
    rows = {r[0]: r[2] for r in values["Checks"].iter_rows(min_row=5, values_only=True) if r[0]}
    assert rows["The valuation date is before the exit date"] is False
    assert named_cell(values, "chk_master").value is False
