"""The house-style template: named cell styles, number formats and the cover page.

The builder never hard-codes a colour or a number format. It fills the template
(``templates/gpuval_template.xlsx``) and applies, by name:

* **cell styles** ``gv_*`` (``gv_input`` blue on a pale fill, ``gv_calc`` black, ``gv_link``
  green, ...), which an analyst restyles in Excel with *Cell Styles > Modify*;
* **number formats** listed on the template's ``Style`` sheet (key in column A, format in column
  B), e.g. ``usd_bn`` -> ``...#,##0.0,,," bn";...#,##0.0,," m"`` (bn above a billion, m below):
  display scaling is a format, never a stored value;
* the **Cover** sheet: its text is the analyst's; the builder only writes into the cells named
  ``tpl_title``, ``tpl_asof``, ``tpl_target``, ``tpl_check``, ``tpl_dataset``.

``write_default_template`` creates the template this repository ships; restyle that file and the
next ``gpuval build`` picks the changes up with no code change.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.workbook.defined_name import DefinedName

from gpuval.errors import GpuvalError
from gpuval.pipeline.safety import safe_load_workbook

__all__ = [
    "COVER_CELLS",
    "DEFAULT_TEMPLATE",
    "FORMATS",
    "NEGATIVE_FORMATS",
    "STAMP_LABEL",
    "STAMP_NAME",
    "STYLES",
    "HouseStyle",
    "load_template",
    "write_default_template",
]

DEFAULT_TEMPLATE = Path(__file__).resolve().parents[3] / "templates" / "gpuval_template.xlsx"

BLUE, BLACK, GREEN, GREY = "FF0000FF", "FF000000", "FF008000", "FF595959"
PALE_YELLOW, HEADER_FILL, OUTPUT_FILL = "FFFFF2CC", "FF1F3864", "FFDDEBF7"
_thin = Side(style="thin", color="FFBFBFBF")

#: Named cell styles: role -> (font, fill, border, alignment).
STYLES: dict[str, dict[str, object]] = {
    "gv_title": {"font": Font(name="Calibri", size=16, bold=True, color="FF1F3864")},
    "gv_subtitle": {"font": Font(name="Calibri", size=11, italic=True, color=GREY)},
    "gv_section": {"font": Font(name="Calibri", size=12, bold=True, color="FF1F3864"),
                   "border": Border(bottom=Side(style="medium", color="FF1F3864"))},
    "gv_header": {"font": Font(name="Calibri", size=10, bold=True, color="FFFFFFFF"),
                  "fill": PatternFill("solid", fgColor=HEADER_FILL),
                  "alignment": Alignment(horizontal="center", vertical="center", wrap_text=True)},
    "gv_label": {"font": Font(name="Calibri", size=10, color=BLACK)},
    "gv_unit": {"font": Font(name="Calibri", size=10, italic=True, color=GREY)},
    "gv_input": {"font": Font(name="Calibri", size=10, color=BLUE),
                 "fill": PatternFill("solid", fgColor=PALE_YELLOW),
                 "border": Border(left=_thin, right=_thin, top=_thin, bottom=_thin)},
    "gv_calc": {"font": Font(name="Calibri", size=10, color=BLACK)},
    "gv_link": {"font": Font(name="Calibri", size=10, color=GREEN)},
    "gv_output": {"font": Font(name="Calibri", size=10, bold=True, color=BLACK),
                  "fill": PatternFill("solid", fgColor=OUTPUT_FILL),
                  "border": Border(top=_thin, bottom=_thin)},
    "gv_data": {"font": Font(name="Calibri", size=10, color=BLACK)},
    "gv_note": {"font": Font(name="Calibri", size=10, italic=True, color=GREY),
                "alignment": Alignment(wrap_text=False)},
    "gv_check": {"font": Font(name="Calibri", size=10, bold=True, color=BLACK)},  # green/red: CF
}  # fmt: skip

#: Money in bn above a billion and in m below, so a small company keeps its digits (0.05 bn is
#: 50.0 m); negatives in parentheses. Excel allows two conditions, so the format takes the large
#: values and a conditional format (:data:`NEGATIVE_FORMATS`) puts the small negatives, which
#: the format's last section shows with a minus sign, in parentheses.
_MONEY = '[>=1000000000]#,##0.0,,," bn";[<=-1000000000](#,##0.0,,," bn");#,##0.0,," m"'

#: Number formats: key -> Excel format code (the template's Style sheet may change them).
#: ``usd_bn`` and ``ccy_bn`` are money in any currency (the unit column names it), scaled.
FORMATS: dict[str, str] = {
    "usd_bn": _MONEY,
    "ccy_bn": _MONEY,
    "ccy_m": '#,##0.0,," m";(#,##0.0,," m")',
    "price": "#,##0.00;(#,##0.00)",
    # A value in the listing currency: per share (1,234.56), or an equity value of a company
    # without a share count, shown in billions (53.7 bn) so it fits the column.
    "value": '[>=100000000]#,##0.0,,," bn";[<=-100000000](#,##0.0,,," bn");#,##0.00',
    "shares_bn": '#,##0.000,,," bn"',
    "pct": "0.0%;(0.0%)",
    "pct2": "0.00%;(0.00%)",
    "multiple": '0.0"x";(0.0"x")',
    "fx": "0.000000",
    "date": "yyyy-mm-dd",
    "int": "0",
    "count": "#,##0",
    "years": "0.00",
    "factor": "0.0000",
    # a chart axis of money that goes negative, in m: LibreOffice's charts put a minus sign before
    # a conditional section's parentheses ("-(500.0 m)"), so no conditions
    "money_axis": '#,##0,," m";(#,##0,," m")',
    "usd_axis": '[>=1000000000]#,##0,,," bn";[>=1000000]#,##0,," m";#,##0',  # 1 m, 1 bn, 1,000 bn
    "plain": "General",
    "number": "#,##0.00;(#,##0.00)",
    # a dataset value in plain units, on Data: large amounts scaled so the column stays narrow
    "data_value": '[>=1000000000]#,##0.00,,," bn";[>=1000000]#,##0.00,," m";General',
    # the formats the conditional formats of NEGATIVE_FORMATS apply
    "money_small_negative": '#,##0.0,," m";(#,##0.0,," m")',
    "value_small_negative": "#,##0.00;(#,##0.00)",
}

#: Format key -> (lowest value, format key): a number from the lowest value up to 0 in a cell of
#: that format is shown in the second format, by a conditional format (the negatives the first
#: format's conditions leave to its minus-sign section).
NEGATIVE_FORMATS: dict[str, tuple[float, str]] = {
    "usd_bn": (-1e9, "money_small_negative"),
    "ccy_bn": (-1e9, "money_small_negative"),
    "value": (-1e8, "value_small_negative"),
}

COVER_CELLS = {
    "tpl_title": "B2",
    "tpl_asof": "C5",
    "tpl_target": "C6",
    "tpl_check": "C7",
    "tpl_dataset": "C8",
}

#: The Cover's stamp area: build writes the label and the cell named ``pub_stamp`` right of it
#: (below everything else on the Cover); ``gpuval publish`` writes that one cell only.
STAMP_NAME = "pub_stamp"
STAMP_LABEL = "Published"

_HOW_TO = [
    "How to use",
    "1. Change assumptions only on the Inputs sheet (blue on pale yellow); every other number is a "
    "formula.",
    "2. Pick the company to value with the Target drop-down on Inputs; every sheet follows.",
    "3. Read the result on Valuation; check that the model check above says OK.",
    "4. Sources lists the article and sentence behind every sourced figure; sourced inputs carry "
    "a cell comment.",
    "5. Monte Carlo is a snapshot computed by gpuval at build or refresh; after an edit, "
    "Valuation shows it as n/a until gpuval refresh redraws it.",
]


@dataclass(frozen=True)
class HouseStyle:
    """What the builder takes from a template: its number formats by key."""

    formats: dict[str, str]

    def fmt(self, key: str) -> str:
        """The template's format for ``key``, else the built-in one (a template made before
        the key existed)."""
        try:
            return self.formats.get(key) or FORMATS[key]
        except KeyError:
            raise GpuvalError(
                f"The template has no number format {key!r} on its Style sheet."
            ) from None


def _add_styles(wb: Workbook) -> None:
    for name, parts in STYLES.items():
        style = NamedStyle(name=name)
        for attr, value in parts.items():
            setattr(style, attr, value)
        wb.add_named_style(style)


def write_default_template(path: Path | BytesIO = DEFAULT_TEMPLATE) -> Path | BytesIO:
    """Write the shipped house-style template (cover, named styles, Style sheet)."""
    wb = Workbook()
    _add_styles(wb)
    cover = wb.worksheets[0]
    cover.title = "Cover"
    cover.sheet_view.showGridLines = False
    cover.column_dimensions["A"].width = 3
    cover.column_dimensions["B"].width = 26
    cover.column_dimensions["C"].width = 60
    cover["B2"] = "China AI-chip IPO valuation"
    cover["B2"].style = "gv_title"
    cover["B3"] = "Built by gpuval from sourced article figures; every other number is a formula."
    cover["B3"].style = "gv_subtitle"
    labels = ("Oldest market figure used", "Target", "Model check", "Dataset")
    for row, label in zip(range(5, 9), labels, strict=True):
        cover.cell(row, 2, label).style = "gv_label"
        cover.cell(row, 3).style = "gv_output"
    for i, line in enumerate(_HOW_TO):
        cover.cell(10 + i, 2, line).style = "gv_section" if i == 0 else "gv_label"
    legend = 10 + len(_HOW_TO) + 1
    cover.cell(legend, 2, "Colour legend").style = "gv_section"
    for i, (style, text) in enumerate(
        [
            ("gv_input", "Input: an assumption or a sourced figure you may change"),
            ("gv_calc", "Formula on this sheet"),
            ("gv_link", "Link to another sheet"),
            ("gv_output", "Headline output"),
            ("gv_check", "Check status"),
        ]
    ):
        cover.cell(legend + 1 + i, 2, "1,234.5").style = style
        cover.cell(legend + 1 + i, 3, text).style = "gv_label"
    for name, cell in COVER_CELLS.items():
        wb.defined_names[name] = DefinedName(name, attr_text=f"Cover!${cell[0]}${cell[1:]}")

    style = wb.create_sheet("Style")
    style["A1"], style["B1"], style["C1"] = "key", "number format", "example"
    for cell in style[1]:
        cell.style = "gv_header"
    for i, (key, code) in enumerate(FORMATS.items(), start=2):
        style.cell(i, 1, key)
        style.cell(i, 2, code)
        example = style.cell(i, 3, 1234567.891 if "bn" in key or key.endswith("_m") else 0.1234)
        example.number_format = code
    style.column_dimensions["A"].width = 12
    style.column_dimensions["B"].width = 28
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


MAX_FORMAT = 255
"""The longest number format code Excel accepts."""


def load_template(path: Path | None = None) -> tuple[Workbook, HouseStyle]:
    """Open a template and read its number formats; the Style sheet is removed from the copy."""
    file: Path | BytesIO = path or DEFAULT_TEMPLATE
    if path is None and not DEFAULT_TEMPLATE.is_file():  # installed without the repository
        buffer = BytesIO()
        write_default_template(buffer)
        buffer.seek(0)
        file = buffer
    if isinstance(file, BytesIO):  # the built-in default, written just now in memory
        wb = load_workbook(file)
    else:
        wb = safe_load_workbook(Path(file), label="Template")
    missing = [s for s in STYLES if s not in wb.named_styles]
    sheets = [s for s in ("Cover", "Style") if s not in wb.sheetnames]
    if missing or sheets:
        what = (
            f"cell styles {', '.join(missing)}" if missing else f"a {' and a '.join(sheets)} sheet"
        )
        raise GpuvalError(f"Template {file} is missing {what}.")
    from gpuval.workbook.build import ORDER  # the sheets a build writes

    taken = [s for s in wb.sheetnames if s in ORDER and s != "Cover"]
    if taken:
        raise GpuvalError(f"Template {file} has a sheet named {taken[0]!r}, which gpuval builds; "
                          "rename or delete it in the template.")  # fmt: skip
    formats = dict(FORMATS)
    for r, (key, code) in enumerate(
            wb["Style"].iter_rows(min_row=2, max_col=2, values_only=True), start=2):  # fmt: skip
        if isinstance(key, str) and isinstance(code, str) and code.strip():
            if len(code) > MAX_FORMAT:
                raise GpuvalError(f"Template {file}, Style!B{r}: the number format for "
                                  f"{key.strip()!r} is {len(code)} characters long; Excel "
                                  f"allows {MAX_FORMAT}.")  # fmt: skip
            formats[key.strip()] = code
    del wb["Style"]
    return wb, HouseStyle(formats)
