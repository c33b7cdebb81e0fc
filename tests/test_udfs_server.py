"""xlwings' own server-side custom-function machinery registers and runs every GPUVAL_ function.

``xlwings.server.custom_functions_meta`` produces the metadata Excel (Office.js: xlwings Lite
and xlwings Server) reads to register the functions; ``custom_functions_call`` runs one call from
the payload Excel sends. Both run on Linux with ``XLWINGS_ON_SERVER=true`` and
``XLWINGS_LICENSE_KEY=noncommercial``. Because ``xlwings`` picks its ``func``/``arg``/``ret``
decorators when it is imported, the fixture imports a fresh ``xlwings`` and ``gpuval.excel``
under those variables and restores the originals afterwards.

Payload shape (read from ``xlwings/pro/udfs_officejs.py``, ``custom_functions_call``):
``func_name`` (the Python name), ``args`` (one entry per argument: a 2-D list of cell values, or
``None`` for an omitted argument), ``version``/``client`` (the version check is skipped for
client ``"Office.js"``), ``runtime`` (the Office.js requirement set, e.g. ``"1.4"``),
``date_format``, ``culture_info_name`` and ``caller_address``. Empty cells arrive as ``""`` (or
``null``); Excel errors as ``{"type": "Error", "basicValue": "#N/A", "errorType": ...}``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import json
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from gpuval import core

XL_NA = {"type": "Error", "basicValue": "#N/A", "errorType": "NotAvailable"}
XL_DIV0 = {"type": "Error", "basicValue": "#DIV/0!", "errorType": "Div0"}


class Server:
    """A fresh ``xlwings.server`` and ``gpuval.excel.udfs`` imported in server mode."""

    XlwingsError: type[Exception]

    def __init__(self, server: ModuleType, udfs: ModuleType, version: str) -> None:
        self.server = server
        self.udfs = udfs
        self.version = version

    def meta(self) -> dict[str, Any]:
        return self.server.custom_functions_meta(self.udfs)

    def call(self, func_name: str, *args: Any, runtime: str = "1.4") -> Any:
        data = {
            "func_name": func_name,
            "args": list(args),
            "version": self.version,
            "client": "Office.js",
            "runtime": runtime,
            "date_format": None,
            "culture_info_name": "en-US",
            "caller_address": "Sheet1!B2",
        }
        out = asyncio.run(self.server.custom_functions_call(data, self.udfs))
        json.dumps(out, allow_nan=False)  # what goes back to Excel must be strict JSON
        return out

    def error(self, func_name: str, *args: Any) -> str:
        """The message of the error value a call returns to Excel."""
        with pytest.raises(self.XlwingsError) as info:
            self.call(func_name, *args)
        return str(info.value)


def _purge(prefixes: tuple[str, ...]) -> dict[str, ModuleType]:
    saved = {}
    for name in list(sys.modules):
        if name in prefixes or name.startswith(tuple(p + "." for p in prefixes)):
            saved[name] = sys.modules.pop(name)
    return saved


@pytest.fixture(scope="module")
def xl() -> Iterator[Server]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XLWINGS_ON_SERVER", "true")
        mp.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
        saved = _purge(("xlwings", "gpuval.excel"))
        try:
            import xlwings  # imported here, with the variables set
            import xlwings.server

            import gpuval.excel.udfs

            assert xlwings.func is xlwings.server.func  # the server decorators are in force
            server = Server(xlwings.server, gpuval.excel.udfs, xlwings.__version__)
            server.XlwingsError = xlwings.XlwingsError
            yield server
        finally:
            _purge(("xlwings", "gpuval.excel"))
            sys.modules.update(saved)
            parent = sys.modules.get("gpuval")
            if parent is not None and "gpuval.excel" in saved:
                parent.excel = saved["gpuval.excel"]  # type: ignore[attr-defined]


def c(x: Any) -> list[list[Any]]:
    """One cell as Office.js sends it."""
    return [[x]]


# --- registration ---------------------------------------------------------------------------


class TestMeta:
    def test_registers_every_function_under_the_gpuval_namespace(self, xl: Server) -> None:
        meta = xl.meta()
        ids = [f["id"] for f in meta["functions"]]
        assert ids == sorted(xl.udfs.__all__)  # calls are dispatched by the Python name
        # Excel shows GPUVAL.PS, GPUVAL.DCF, ...: the namespace, then the name without GPUVAL_
        assert [f["name"] for f in meta["functions"]] == [
            "GPUVAL." + i[len("GPUVAL_") :] for i in ids
        ]
        assert "GPUVAL.TAM_PER_SHARE" in [f["name"] for f in meta["functions"]]
        assert meta["allowErrorForDataTypeAny"] is True

    def test_the_namespace_is_the_functions_own(
        self, xl: Server, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # xlwings also reads a module-level __xlwings_func_namespace__ (newer versions); the
        # namespace each function carries takes precedence, so a module-level one, set by
        # gpuval or by anyone importing the functions into their own module, changes nothing
        names = [f["name"] for f in xl.meta()["functions"]]
        for module in {getattr(xl.udfs, n).__module__ for n in xl.udfs.__all__} | {"__main__"}:
            monkeypatch.setattr(sys.modules[module], "__xlwings_func_namespace__", "OTHER", False)
        monkeypatch.setattr(xl.udfs, "__xlwings_func_namespace__", "OTHER", False)
        assert [f["name"] for f in xl.meta()["functions"]] == names
        assert all(name.startswith("GPUVAL.") for name in names)

    def test_results_that_depend_only_on_the_arguments_are_cached(self, xl: Server) -> None:
        for name in xl.udfs.__all__:
            xlf = getattr(xl.udfs, name).__xlfunc__
            assert xlf["cache"] is (name != "GPUVAL_VERSION"), name
            assert xlf["volatile"] is False, name

    def test_parameters_and_help(self, xl: Server) -> None:
        for f in xl.meta()["functions"]:
            py = getattr(xl.udfs, f["id"])
            params = inspect.signature(py).parameters
            assert f["description"] == py.__doc__ and 0 < len(f["description"]) <= 255
            assert [p["name"] for p in f["parameters"]] == list(params)
            for p in f["parameters"]:
                assert p["description"] and not p["description"].startswith("Positional")
                assert len(p["description"]) <= 255
                optional = params[p["name"]].default is not inspect.Parameter.empty
                assert p.get("optional", False) is optional, (f["name"], p["name"])
                assert p["description"].startswith("Optional.") is optional, (f["name"], p)
                assert p["dimensionality"] == "matrix" and p["type"] == "any"
            assert f["result"] == {"dimensionality": "matrix", "type": "any"}
            assert "volatile" not in f["options"]

    def test_argument_options(self, xl: Server) -> None:
        for name in xl.udfs.__all__:
            xlf = getattr(xl.udfs, name).__xlfunc__
            for arg in xlf["args"]:
                assert arg["options"] == {"ndim": 2, "err_to_str": True}, (name, arg)
            assert xlf["ret"]["options"] == {}, name  # results are plain rows: no pandas

    def test_the_model_help_names_every_model(self, xl: Server) -> None:
        sens = next(f for f in xl.meta()["functions"] if f["id"] == "GPUVAL_SENSITIVITY")
        help_text = next(p for p in sens["parameters"] if p["name"] == "model")["description"]
        from gpuval.excel.simulation import MODELS

        for model in MODELS:
            assert f'"{model}"' in help_text


# --- calls ----------------------------------------------------------------------------------

TAM = [0.05, 200e9, 0.20, 30.0, 0.25, 2.0, 2.6e9, 0.5, 2e9, 0.2, 7.8, 50.0]
DCF = {
    "revenue": 100.0, "growth_y1": 0.0, "growth_y2_5": 0.0, "terminal_growth": 0.0,
    "operating_margin": 0.2, "target_margin": 0.2, "sales_to_capital": 1.0, "tax_rate": 0.25,
    "cost_of_capital": 0.10, "mature_cost_of_capital": 0.10, "shares_outstanding": 10.0,
    "cash": 50.0,
}  # fmt: skip
DCF_TABLE = [["input", "value"], *([k, v] for k, v in DCF.items())]


class TestCalls:
    def test_scalar(self, xl: Server) -> None:
        assert xl.call("GPUVAL_PS", c(300e9), c(1.5e9)) == [[200.0]]

    def test_omitted_and_blank_optional_arguments_take_defaults(self, xl: Server) -> None:
        assert xl.call("GPUVAL_PS", c(300e9), c(1.5e9), None) == [[200.0]]
        assert xl.call("GPUVAL_PS", c(300e9), c(1.5e9), c("")) == [[200.0]]
        assert xl.call("GPUVAL_PS", c(300e9), c(1.5e9), c(None)) == [[200.0]]
        assert xl.call("GPUVAL_PS_BACKLOG", c(79.2e9), c(1.2e9), None, None) == [[82.5]]

    def test_whole_numbers_arrive_as_ints(self, xl: Server) -> None:
        assert xl.call("GPUVAL_PS", c(300), c(3)) == [[100.0]]

    def test_ranges_spill_sized_exactly(self, xl: Server) -> None:
        out = xl.call("GPUVAL_PS", [[60e9], [90e9], [120e9]], [[0.3e9, 0.6e9]])
        assert out == [[200.0, 100.0], [300.0, 150.0], [400.0, 200.0]]

    def test_tam(self, xl: Server) -> None:
        expected = core.tam_scenario(
            *TAM[:7], prob_success=0.5, distress_value=2e9, dilution=0.2, fx=7.8, price=50.0
        )
        args = [c(x) for x in TAM]
        assert xl.call("GPUVAL_TAM_VALUE", *args) == [[expected.value]]
        assert xl.call("GPUVAL_TAM_PER_SHARE", *args, c("pe")) == [[expected.value_per_share]]
        steps = xl.call("GPUVAL_TAM_SCENARIO", *args)
        assert steps[-1] == ["upside", expected.upside] and len(steps) == 8

    def test_tables_arrive_as_rows(self, xl: Server) -> None:
        assert xl.call("GPUVAL_DCF_TABLE", DCF_TABLE)[0][0] == pytest.approx(20.0)
        peers = [
            ["company", "P/S"],
            ["Cambricon", 100.0],
            ["MetaX", 150.0],
            ["Moore", 200.0],
            ["Biren", ""],
        ]
        out = xl.call("GPUVAL_PEER_STATS", peers, c("Biren"), c(False))
        assert out == [[3.0], [100.0], [125.0], [150.0], [150.0], [175.0], [200.0]]

    def test_table_result_with_header_and_row_names(self, xl: Server) -> None:
        from gpuval.excel.params import DCF_SCHEDULE

        out = xl.call("GPUVAL_DCF_SCHEDULE", DCF_TABLE)
        assert out[0] == ["item", *(f"year {t}" for t in range(1, 11))]
        assert [r[0] for r in out[1:]] == list(DCF_SCHEDULE)
        assert out[2][1:] == [100.0] * 10  # revenue

    def test_sensitivity_and_montecarlo(self, xl: Server) -> None:
        tam_table = [
            ["share", 0.05],
            ["tam", 200e9],
            ["margin", 0.2],
            ["exit_multiple", 30.0],
            ["cost_of_equity", 0.25],
            ["years", 2.0],
            ["shares_outstanding", 2.6e9],
            ["prob_success", 0.5],
            ["distress_value", 2e9],
            ["dilution", 0.2],
            ["fx", 7.8],
        ]
        grid = xl.call(
            "GPUVAL_SENSITIVITY",
            c("tam"),
            tam_table,
            c("share"),
            [[0.03], [0.05]],
            c("exit_multiple"),
            [[20, 30, 40]],
        )
        assert grid[0] == ["share \\ exit_multiple", 20.0, 30.0, 40.0]
        assert grid[2][2] == pytest.approx(51.0)
        dists = [["share", "uniform", 0.03, 0.07, "", "", ""]]
        mc = xl.call("GPUVAL_MONTECARLO", c("tam"), tam_table, dists, c(1000), c(3), None, c(51.0))
        assert [r[0] for r in mc][:3] == ["draws", "mean", "std"] and mc[0][1] == 1000.0
        assert 0.4 < mc[-1][1] < 0.6  # P(value > 51) with share symmetric around 5%

    def test_data_functions(self, xl: Server) -> None:
        assert xl.call("GPUVAL_DATA", c("cambricon"), c("revenue")) == [[2.88e9]]
        assert xl.call("GPUVAL_FX", c("USD"), c("CNY")) == [[7.0]]
        assert xl.call("GPUVAL_VERSION")[0][0].startswith("gpuval ")
        source = xl.call("GPUVAL_SOURCE", c("biren.order_backlog"))[0][0]
        assert "12.4億元" in source and "biren.order_backlog" in source

    def test_dates_become_excel_serials(self, xl: Server) -> None:
        out = xl.call("GPUVAL_DATA", c("biren.listing_date"))
        assert out == [[float((dt.date(2026, 1, 2) - dt.date(1899, 12, 30)).days)]]


class TestErrorsInCalls:
    """Under Office.js a failure is an Excel error value (ISERROR sees it) carrying the sentence:
    the function raises ``XlwingsError``, which xlwings hands to Excel as the cell's error."""

    def test_excel_error_arguments_are_named_not_read_as_blanks(self, xl: Server) -> None:
        # without err_to_str xlwings would pass None and the default fx = 1 would be used
        out = xl.error("GPUVAL_PS", c(300e9), c(1.5e9), c(XL_NA))
        assert out == "#GPUVAL! fx is the Excel error #N/A; fix the cell it comes from."
        out = xl.error("GPUVAL_PEER_STATS", [[1.0], [XL_DIV0], [3.0]])
        assert "#DIV/0! (cell 2 of the column)" in out

    def test_text_blank_and_mismatched_ranges(self, xl: Server) -> None:
        assert "must be a number, got text 'abc'" in xl.error("GPUVAL_PS", c("abc"), c(1.0))
        out = xl.error("GPUVAL_PS", c(""), c(1.0))
        assert "market_value is required, but the cell is blank" in out
        out = xl.error("GPUVAL_PS", [[1.0], [2.0], [3.0]], [[1.0], [2.0]])
        assert "3 x 1 range and revenue a 2 x 1 range" in out

    def test_core_errors_and_overflow(self, xl: Server) -> None:
        args = [c(x) for x in TAM]
        args[0] = c(1.5)
        out = xl.error("GPUVAL_TAM_VALUE", *args)
        assert out == "#GPUVAL! share must be between 0 and 1, got 1.5."
        # an infinite result would be invalid JSON for Excel; it becomes a message instead
        assert "not a finite number" in xl.error("GPUVAL_PS", c(1e300), c(1e-300))

    def test_unknown_names_and_limits(self, xl: Server) -> None:
        assert "did you mean biren?" in xl.error("GPUVAL_DATA", c("birne"), c("x"))
        out = xl.error(
            "GPUVAL_MONTECARLO", c("tam"), [["share", 0.1]], [["share", "point", 0.1]], c(10**6)
        )
        assert "draws must be a whole number from 1 to 200,000" in out
        # (an over-sized range is refused by gpuval in microseconds, but xlwings' own
        # conversion of 100,000 cells takes seconds first; tests/test_udfs_args.py covers it)

    def test_agreeing_records_answer_through_xlwings(self, xl: Server) -> None:
        assert xl.call("GPUVAL_DATA", c("biren"), c("ipo_offer_price")) == [[19.6]]
        out = xl.error("GPUVAL_DATA", c("biren"), c("revenue"))
        assert "337,000,000 CNY" in out and "300,000,000 CNY" in out
