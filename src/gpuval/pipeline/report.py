"""What the commands print: records as an aligned table, CSV or JSON, and the text of the quality,
evaluate, check and publish reports.

Every function returns the text (ending in a newline when not empty); the command prints it. Only
the standard library is imported here, so that ``gpuval data`` and ``gpuval entities`` stay quick.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gpuval.data.quality import Check
    from gpuval.pipeline.findings import CheckReport
    from gpuval.pipeline.publish import PublishReport

__all__ = [
    "check_text",
    "evaluate_text",
    "publish_text",
    "quality_text",
    "rows_text",
]


def _json_number(value: Any) -> Any:
    """Whole floats as integers (1240000000, not 1240000000.0); NaN as null."""
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
    return value


def _csv_text(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe (OWASP)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _missing(value: Any) -> bool:
    """None or NaN: an empty cell in a table or CSV."""
    return value is None or (isinstance(value, float) and value != value)


def _csv_cell(value: Any) -> str:
    """A CSV field: floats to full precision (``%.17g``), missing values (None, NaN) empty."""
    if _missing(value):
        return ""
    if isinstance(value, float):
        return f"{value:.17g}"
    return str(_csv_text(value))


def _text_width(text: str) -> int:
    """Columns the text takes in a terminal: East Asian wide and full-width characters take 2."""
    from unicodedata import east_asian_width

    return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)


def _table_cell(value: Any) -> str:
    if _missing(value):
        return ""
    if isinstance(value, float):
        from gpuval.data.dataset import format_value

        return format_value(value)
    return " ".join(str(value).split())  # one line per row


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """Aligned columns, numbers to the right and text to the left, wide characters counted."""
    cells = [[_table_cell(row[k]) for k in columns] for row in rows]
    numeric = [
        all(isinstance(row[k], int | float) or row[k] is None for row in rows) for k in columns
    ]
    widths = [
        max([_text_width(name), *(_text_width(line[i]) for line in cells)])
        for i, name in enumerate(columns)
    ]

    def line(values: Sequence[str]) -> str:
        padded = [
            " " * (w - _text_width(v)) + v if right else v + " " * (w - _text_width(v))
            for v, w, right in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(padded).rstrip()

    return "\n".join([line(list(columns)), *(line(values) for values in cells)])


def rows_text(rows: list[dict[str, Any]], fmt: str, columns: Sequence[str]) -> str:
    """``rows`` (only ``columns``) as ``fmt``: "json", "csv" or an aligned "table"."""
    if fmt == "json":
        clean = [{k: _json_number(row[k]) for k in columns} for row in rows]
        return json.dumps(clean, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_csv_cell(row[k]) for k in columns] for row in rows)
        return out.getvalue()
    return (_table(rows, columns) if rows else "(no records)") + "\n"


def quality_text(checks: Sequence[Check], fmt: str) -> str:
    """The dataset's relations checked against themselves: one finding a line and a count
    ("table"), or a record per check ("json", "csv")."""
    rows = [
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
        for c in checks
    ]
    if fmt != "table":
        return rows_text(rows, fmt, list(rows[0]) if rows else ["status"])
    bad = sum(not c.consistent for c in checks)
    return "".join(f"{row['finding']}\n" for row in rows) + (
        f"{bad} inconsistent of {len(checks)} checks.\n"
    )


def evaluate_text(result: dict[str, Any], fmt: str, units: dict[str, str] | None = None) -> str:
    """Every ``out_`` value: a JSON object, or a line each (six significant digits, "n/a"), with
    its unit when ``units`` gives it."""
    if fmt == "json":
        return json.dumps(result, indent=2) + "\n"
    units = units or {}
    return "".join(
        f"{name:36} {'n/a' if value is None else f'{value:,.6g}':>14}  {units.get(name, '')}"
        .rstrip() + "\n"
        for name, value in result.items()
    )  # fmt: skip


def check_text(report: CheckReport, fmt: str) -> str:
    """The check report: JSON, or PASS/FAIL a check with its details and a last verdict line."""
    if fmt == "json":
        return json.dumps(report.as_dict(), indent=2, ensure_ascii=False, default=str) + "\n"
    lines = []
    for r in report.results:
        lines.append(f"{'PASS' if r.passed else 'FAIL'}  {r.description}")
        lines += [f"      {line}" for line in r.details]
    lines.append("All checks pass." if report.passed else "Some checks fail.")
    return "".join(f"{line}\n" for line in lines)


def publish_text(report: PublishReport) -> tuple[str, str]:
    """What publish prints: the files written (stdout), then its notes and warnings (stderr)."""
    out = "".join(f"wrote {path}\n" for path in [*report.outputs, report.manifest])
    notes = [f"note: {note}" for note in report.notes]
    if not report.checked:
        notes.append("warning: published UNCHECKED (--force)")
    return out, "".join(f"{line}\n" for line in notes)
