"""The GPUVAL_ functions' declarations: one place per parameter, a slim import, the README table."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gpuval import core
from gpuval.data.dataset import Record
from gpuval.excel import data, declare, params, udfs
from gpuval.excel.declare import REGISTRY, Param, readme_table, udf

ROOT = Path(__file__).resolve().parents[1]
EXCEL = ROOT / "src" / "gpuval" / "excel"

HEAVY = ("pandas", "pydantic", "openpyxl", "click", "lxml", "defusedxml", "xlwings")
"""What the functions never need at import (xlwings only where a runtime registers them)."""


def _fresh_import(code: str, **env: str) -> dict[str, list[str]]:
    """Run ``code`` in a fresh interpreter; return the top-level and gpuval modules loaded."""
    probe = (
        f"{code}\nimport json, sys\n"
        "print(json.dumps({'top': sorted({m.split('.')[0] for m in sys.modules}),"
        " 'gpuval': sorted(m for m in sys.modules if m.startswith('gpuval'))}))"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("XLWINGS")}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True,
        env={**environ, **env}, timeout=120,
    )  # fmt: skip
    loaded: dict[str, list[str]] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


class TestSlimImport:
    def test_importing_the_functions_loads_no_heavy_module(self) -> None:
        loaded = _fresh_import("import gpuval.excel.udfs")
        assert not set(HEAVY) & set(loaded["top"]), set(HEAVY) & set(loaded["top"])
        assert "numpy" in loaded["top"]  # the probe sees imports at all
        for name in loaded["gpuval"][1:]:  # no dataset, workbook, pipeline or CLI code
            assert name.split(".")[1] in ("core", "errors", "excel"), name

    def test_the_dataset_loads_on_the_first_lookup_not_before(self) -> None:
        code = (
            "from gpuval.excel import udfs\n"
            "import sys\nassert 'gpuval.data.dataset' not in sys.modules\n"
            "assert udfs.GPUVAL_DATA('cambricon', 'revenue') == 2.88e9"
        )
        loaded = _fresh_import(code)
        assert "gpuval.data.dataset" in loaded["gpuval"]
        assert not {"openpyxl", "click", "lxml", "defusedxml"} & set(loaded["top"])

    def test_calling_the_functions_loads_no_workbook_or_cli_dependency(self) -> None:
        # What a slim install would need: the model functions run on numpy and scipy alone;
        # the dataset lookups add pydantic (the dataset's validation); none loads pandas,
        # openpyxl, click, lxml or defusedxml (the workbook and command-line dependencies).
        code = (
            "import sys\nfrom gpuval.excel import udfs as u\n"
            "dcf = [['revenue', 1e8], ['growth_y1', 0.5], ['growth_y2_5', 0.3],"
            " ['terminal_growth', 0.02], ['operating_margin', -0.2], ['target_margin', 0.2],"
            " ['sales_to_capital', 1.5], ['tax_rate', 0.25], ['cost_of_capital', 0.12],"
            " ['mature_cost_of_capital', 0.08], ['shares_outstanding', 1e8]]\n"
            "results = [u.GPUVAL_DCF(*[[[v]] for _, v in dcf]), u.GPUVAL_DCF_TABLE(dcf),"
            " u.GPUVAL_DCF_SCHEDULE(dcf), u.GPUVAL_IMPLIED_GROWTH(5e8, dcf),"
            " u.GPUVAL_SENSITIVITY('dcf', dcf, 'growth_y2_5', [[0.2], [0.3]],"
            " 'target_margin', [[0.1, 0.2]]),"
            " u.GPUVAL_MONTECARLO('dcf', dcf, [['growth_y2_5', 'normal', 0.3, 0.05]], 1000),"
            " u.GPUVAL_PEER_STATS([['a', 10.0], ['b', 20.0]]), u.GPUVAL_PS(3e9, 1e8)]\n"
            "assert not any(isinstance(r, str) for r in results), results\n"
            "assert 'pydantic' not in sys.modules\n"
            "assert u.GPUVAL_DATA('cambricon', 'revenue') == 2.88e9\n"
            "assert isinstance(u.GPUVAL_FX('USD', 'CNY'), float)\n"
            "assert 'pydantic' in sys.modules"
        )
        loaded = _fresh_import(code)
        assert not {"pandas", "openpyxl", "click", "lxml", "defusedxml"} & set(loaded["top"])
        assert "scipy" in loaded["top"] and "pydantic" in loaded["top"]

    def test_in_office_js_mode_xlwings_registers_but_nothing_else_heavy_loads(self) -> None:
        loaded = _fresh_import(
            "import gpuval.excel.udfs as u\nassert hasattr(u.GPUVAL_PS, '__xlfunc__')",
            XLWINGS_ON_SERVER="true",
            XLWINGS_LICENSE_KEY="noncommercial",
        )
        assert "xlwings" in loaded["top"]
        # (xlwings itself imports pandas when it is installed; gpuval adds none of these)
        assert not {"pydantic", "openpyxl", "click", "lxml", "defusedxml"} & set(loaded["top"])


class TestDeclaredOnce:
    def test_a_parameter_shared_by_functions_is_one_declaration(self) -> None:
        # the same name with the same help in two functions must be the same object, declared
        # once and reused (fx, shares_outstanding, the TAM and DCF inputs...), not restated
        seen: dict[tuple[str, str], Param] = {}
        for spec in REGISTRY.values():
            for p in spec.params:
                first = seen.setdefault((p.name, p.doc), p)
                assert first is p, (spec.name, p.name)
        assert seen[("fx", params.FX.doc)] is params.FX
        users = [s.name for s in REGISTRY.values() if params.FX in s.params]
        assert users == [
            "GPUVAL_DCF",
            "GPUVAL_TAM_VALUE",
            "GPUVAL_TAM_PER_SHARE",
            "GPUVAL_TAM_SCENARIO",
            "GPUVAL_IMPLIED_SHARE",
        ]

    def test_each_parameter_literal_appears_once_per_meaning(self) -> None:
        # a name declared twice in the source must carry different help (a different meaning)
        source = "\n".join(p.read_text(encoding="utf-8") for p in sorted(EXCEL.glob("*.py")))
        declared = re.findall(r'Param\(\s*"(\w+)",\s*"?\w*"?,?\s*\w*,?\s*"([^"]*)', source)
        assert len(declared) >= 50  # the probe finds the declarations
        assert len(set(declared)) == len(declared), sorted(
            d for d in declared if declared.count(d) > 1
        )

    def test_every_function_is_declared_and_registered(self) -> None:
        assert sorted(REGISTRY) == sorted(udfs.__all__) and len(REGISTRY) == 24
        for name, spec in REGISTRY.items():
            func = getattr(udfs, name)
            assert func.__doc__ == spec.doc and func.__name__ == name
            assert list(func.__code__.co_varnames[: func.__code__.co_argcount]) == [
                p.name for p in spec.params
            ]

    def test_tables_and_models_read_the_same_declarations(self) -> None:
        from gpuval.excel.simulation import MODELS

        assert list(MODELS["dcf"].kinds) == [p.name for p in params.DCF]
        assert MODELS["dcf"].kinds["margin_convergence_year"] == "year"
        assert MODELS["tam"].required == tuple(p.name for p in params.TAM[:7])
        assert MODELS["tam"].kinds["basis"] == "basis" and "price" in MODELS["tam"].kinds

    def test_help_derives_the_optional_prefix_and_the_default(self) -> None:
        assert params.FX.doc == (
            "Optional. Listing-currency units per model-currency unit. Blank = 1."
        )
        assert params.TAM[0].doc == params.TAM[0].help  # required: the help alone
        months = REGISTRY["GPUVAL_PS_BACKLOG"].params[2]
        assert months.doc.endswith("Blank = 15.")  # the core's 15-month delivery

    def test_declaration_mistakes_are_refused_at_import(self) -> None:
        with pytest.raises(ValueError, match="required b follows an optional"):
            udf("GPUVAL_Y", "Doc.", [Param("a", "number", "A.", 1.0), Param("b", "number", "B.")],
                core=core.price_to_sales, summary="", example="")  # fmt: skip
        with pytest.raises(ValueError, match="a new name"):
            udf("GPUVAL_PS", "Doc.", [], core=core.price_to_sales, summary="", example="")
        with pytest.raises(ValueError, match="one line of 1-255"):
            udf("GPUVAL_Z", "x" * 256, [], core=core.price_to_sales, summary="", example="")
        with pytest.raises(ValueError, match="unknown kind"):
            Param("a", "numbr", "A.")
        assert "GPUVAL_Y" not in REGISTRY and "GPUVAL_Z" not in REGISTRY

    def test_data_fields_follow_the_record_definition(self) -> None:
        compared = [f.name for f in dataclasses.fields(Record) if f.compare]
        assert list(data.FIELDS) == [n for n in compared if n not in ("entity", "metric")]


class TestReadme:
    def test_the_function_table_is_the_generated_one(self) -> None:
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        begin, end = readme.index(declare.README_BEGIN), readme.index(declare.README_END)
        assert readme[begin : end + len(declare.README_END)] == readme_table()

    def test_the_table_shows_each_signature_from_its_declaration(self) -> None:
        table = readme_table()
        assert "| `GPUVAL_PS(market_value, revenue, [fx=1])` |" in table
        assert "[months=15]" in table and '[field="value"]' in table
        assert table.count("\n| `GPUVAL_") == 24
