"""Excel argument coercion (gpuval.excel.args): cells, blanks, errors, ranges, results."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pytest

from gpuval.core import InputError
from gpuval.excel.args import (
    EXCEL_ERRORS,
    MAX_CELLS,
    REQUIRED,
    UdfError,
    broadcast,
    cells,
    choice,
    flag,
    grid,
    number,
    numbers,
    one_cells,
    pairs,
    single,
    text,
    whole,
)
from gpuval.excel.results import MAX_MESSAGE, PREFIX, error_text, guard, result


class _Series:
    """Stands for a pandas object: not a range Excel or the documented callers pass."""


class TestNumber:
    @pytest.mark.parametrize("value", [2.5, [[2.5]], [2.5], np.float64(2.5), np.array([[2.5]])])
    def test_one_cell_in_any_shape_is_a_float(self, value: object) -> None:
        out = number("x", value)
        assert out == 2.5 and type(out) is float

    def test_whole_numbers_from_office_js_become_floats(self) -> None:
        out = number("x", [[3]])
        assert out == 3.0 and type(out) is float

    @pytest.mark.parametrize("blank", [None, [[None]], "", [[""]], "   ", [[" "]]])
    def test_blank_takes_the_default(self, blank: object) -> None:
        assert number("fx", blank, 1.0) == 1.0

    def test_blank_without_default_is_required(self) -> None:
        with pytest.raises(UdfError, match=r"^revenue is required, but the cell is blank\.$"):
            number("revenue", [[None]])

    @pytest.mark.parametrize("code", sorted(EXCEL_ERRORS))
    def test_excel_errors_are_named(self, code: str) -> None:
        with pytest.raises(UdfError, match=f"^share is the Excel error {code.replace('?', '.')}"):
            number("share", [[code]])

    def test_error_from_another_gpuval_cell(self) -> None:
        with pytest.raises(UdfError, match="comes from a cell showing a #GPUVAL! error"):
            number("share", "#GPUVAL! tam must be 0 or more, got -1.")

    @pytest.mark.parametrize(
        ("value", "shown"),
        [
            ("abc", "text 'abc'"),
            ("1.5", "text '1.5'"),  # text that looks like a number is still text
            (True, "TRUE"),
            (False, "FALSE"),
            (dt.datetime(2026, 1, 2), "a date"),
            (float("nan"), "NaN"),
            (float("inf"), "inf"),
            (10**400, "a huge whole number"),
            ({"a": 1}, "a value of type dict"),
        ],
    )
    def test_non_numbers_are_refused(self, value: object, shown: str) -> None:
        with pytest.raises(UdfError, match=r"^x must be a (finite )?number, got ") as info:
            number("x", value)
        assert shown in str(info.value)

    def test_a_range_is_a_2d_array(self) -> None:
        out = number("x", [[1.0], [2.0], [3]])
        assert isinstance(out, np.ndarray) and out.shape == (3, 1)
        np.testing.assert_array_equal(out, [[1.0], [2.0], [3.0]])

    def test_a_python_1d_list_is_a_row(self) -> None:
        assert number("x", [1.0, 2.0]).shape == (1, 2)

    def test_only_excel_shapes_and_numpy_arrays_are_ranges(self) -> None:
        np.testing.assert_array_equal(number("x", np.array([1.0, 2.0])), [[1.0, 2.0]])
        with pytest.raises(UdfError, match="x must be a number, got a value of type _Series"):
            number("x", _Series())
        with pytest.raises(UdfError, match="range of cell values, got a datetime64"):
            cells("x", np.array(["2026-01-02"], dtype="datetime64[D]"))

    def test_blank_inside_a_range_is_an_error_naming_the_cell(self) -> None:
        with pytest.raises(UdfError, match=r"x has a blank cell \(cell 2 of the column\)"):
            number("x", [[1.0], [None]])
        with pytest.raises(UdfError, match=r"row 2, column 1 of the range"):
            number("x", [[1.0, 2.0], ["a", 3.0]])

    def test_error_inside_a_range_names_the_cell(self) -> None:
        with pytest.raises(UdfError, match=r"holds the Excel error #DIV/0! \(cell 3 of the row\)"):
            number("x", [[1.0, 2.0, "#DIV/0!"]])


class TestOneCells:
    NAMES = ("a", "b", "c")

    def test_one_cells_and_floats_omitted_ones_left_out_or_filled(self) -> None:
        assert one_cells(self.NAMES, ([[1.0]], 2.0, None), {"a"}, {}) == {"a": 1.0, "b": 2.0}
        filled = one_cells(self.NAMES, ([[1.0]], None, None), {"a"}, {"c": 3.0})
        assert filled == {"a": 1.0, "c": 3.0}

    @pytest.mark.parametrize(
        "first",
        [None, [[1.0, 2.0]], [[1.0], [2.0]], [[None]], [["x"]], [[1]], [[True]], [[np.nan]],
         [[np.inf]], np.inf, 1, np.float64(1.0), "1", [[]], []],
    )  # fmt: skip
    def test_anything_else_takes_the_per_argument_path(self, first: object) -> None:
        assert one_cells(self.NAMES, (first, [[2.0]], None), {"a"}, {}) is None


class TestSingleWholeTextChoiceFlag:
    def test_single_refuses_ranges(self) -> None:
        with pytest.raises(UdfError, match="k must be a single cell, got a 2 x 1 range"):
            single("k", [[0.1], [0.2]])

    def test_whole(self) -> None:
        assert whole("n", [[5.0]], 10, 1, 10) == 5 and whole("n", None, 10, 1, 10) == 10
        with pytest.raises(UdfError, match=r"n must be a whole number from 1 to 10, got 2\.5"):
            whole("n", 2.5, 10, 1, 10)
        with pytest.raises(UdfError, match="from 1 to 200,000, got 300,000"):
            whole("draws", 300_000.0, 1, 1, 200_000)

    def test_text(self) -> None:
        assert text("entity", [["  biren "]]) == "biren"
        assert text("entity", [[None]], None) is None
        with pytest.raises(UdfError, match="entity must be text, got 5"):
            text("entity", 5.0)
        with pytest.raises(UdfError, match="entity is the Excel error #N/A"):
            text("entity", "#n/a")
        with pytest.raises(UdfError, match="at most 255 characters"):
            text("entity", "x" * 256)
        with pytest.raises(UdfError, match="a single cell of text, got a range"):
            text("entity", [["a", "b"]])

    def test_choice_is_case_insensitive(self) -> None:
        assert choice("basis", [["PS"]], "pe", ("pe", "ps")) == "ps"
        assert choice("basis", None, "pe", ("pe", "ps")) == "pe"
        with pytest.raises(UdfError, match="basis must be one of pe, ps; got text 'pb'"):
            choice("basis", "pb", "pe", ("pe", "ps"))

    @pytest.mark.parametrize(
        ("value", "expected"),
        [(True, True), (False, False), (1.0, True), (0, False), ("true", True), (" FALSE", False)],
    )
    def test_flag(self, value: object, expected: bool) -> None:
        assert flag("labels", [[value]], not expected) is expected

    def test_flag_blank_and_bad(self) -> None:
        assert flag("labels", None, True) is True
        with pytest.raises(UdfError, match="labels must be TRUE or FALSE, got 2"):
            flag("labels", 2.0, True)


class TestRanges:
    def test_cells_cleans_every_cell(self) -> None:
        day = dt.date(2026, 1, 2)
        out = cells("t", [[1, "a", None], ["", True, day]])
        assert out == [[1.0, "a", None], [None, True, day]]

    def test_nan_in_a_range_is_refused(self) -> None:
        # Excel never sends NaN; a Python caller's NaN is not read as a blank
        with pytest.raises(UdfError, match=r"finite numbers, got nan \(cell 2 of the row\)"):
            cells("t", [[1.0, float("nan")]])

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ([], "t is an empty range"),
            ([[]], "t is an empty range"),
            ([[1.0, 2.0], [3.0]], "rows differ in length"),
            ([[1.0], 2.0], "must be a rectangular range"),
            ([[[1.0]]], "nested ranges"),
            (np.zeros((2, 2, 2)), "got 3 dimensions"),
            ({"a": 1.0}, "must be a range, not a mapping"),
        ],
    )
    def test_bad_shapes(self, value: object, message: str) -> None:
        with pytest.raises(UdfError, match=message):
            cells("t", value)

    @pytest.mark.parametrize(
        "value",
        [
            [0.0] * (MAX_CELLS + 1),
            [[0.0] * 1000] * (MAX_CELLS // 1000 + 1),
            np.zeros(MAX_CELLS + 1),
        ],
    )
    def test_huge_ranges_are_refused_before_conversion(self, value: object) -> None:
        with pytest.raises(UdfError, match=f"more than the {MAX_CELLS:,}"):
            cells("t", value)

    def test_grid_fast_path_for_numpy(self) -> None:
        out = grid("x", np.array([[1, 2]]))
        assert out.dtype == np.float64 and out.shape == (1, 2)

    def test_numbers_flattens_and_skips_blanks(self) -> None:
        assert numbers("v", [[1.0, None], [None, 3.0]]) == [1.0, 3.0]
        with pytest.raises(UdfError, match="v has no numbers"):
            numbers("v", [[None, ""]])
        with pytest.raises(UdfError, match="at most 2 are allowed"):
            numbers("v", [[1.0, 2.0, 3.0]], limit=2)

    def test_pairs_in_columns_or_rows_with_optional_header(self) -> None:
        expected = [("a", 1.0, " (row 2)"), ("b", None, " (row 3)")]
        assert pairs("t", [["name", "value"], ["a", 1.0], ["b", None], [None, None]]) == expected
        across = pairs("t", [["a", "b", "c"], [1.0, 2.0, 3.0]])
        assert [(k, v) for k, v, _ in across] == [("a", 1.0), ("b", 2.0), ("c", 3.0)]

    def test_pairs_keeps_a_known_text_input_in_the_first_row(self) -> None:
        rows = [["basis", "ps"], ["share", 0.1]]
        assert [k for k, _, _ in pairs("t", rows, known=("basis", "share"))] == ["basis", "share"]

    def test_pairs_from_python_mappings(self) -> None:
        assert [(k, v) for k, v, _ in pairs("t", {"a": 1.0})] == [("a", 1.0)]

    def test_pairs_errors(self) -> None:
        with pytest.raises(UdfError, match="two-column range of names and values, got 3 x 3"):
            pairs("t", [[1.0] * 3] * 3)
        with pytest.raises(UdfError, match=r"a value without a name \(row 1\)"):
            pairs("t", [[None, 1.0], ["a", 2.0]])
        with pytest.raises(UdfError, match="needs a text name in its first column, got 5"):
            pairs("t", [[5.0, 1.0], ["a", 2.0]])

    def test_broadcast(self) -> None:
        col, row = np.zeros((3, 1)), np.zeros((1, 4))
        assert broadcast({"a": col, "b": row, "c": 1.0}) == (3, 4)
        with pytest.raises(UdfError, match="a is a 3 x 1 range and b a 2 x 1 range"):
            broadcast({"a": col, "b": np.zeros((2, 1))})
        with pytest.raises(UdfError, match="combine into 250,000 results"):
            broadcast({"a": np.zeros((500, 1)), "b": np.zeros((1, 500))})


class TestResultAndErrors:
    def test_result(self) -> None:
        assert result(2.0) == 2.0
        assert result(np.float64(2.0)) == 2.0 and type(result(np.float64(2.0))) is float
        assert result(np.array([[1.0, 2.0]])) == [[1.0, 2.0]]
        assert result(np.array([1.0, 2.0])) == [[1.0, 2.0]]
        assert result("text") == "text"

    @pytest.mark.parametrize("bad", [float("inf"), float("nan"), np.array([[1.0, np.inf]])])
    def test_non_finite_results_are_refused(self, bad: object) -> None:
        with pytest.raises(UdfError, match="not a finite number"):
            result(bad)

    def test_error_text_is_one_capped_line(self) -> None:
        assert error_text(InputError("share must be between 0 and 1,\n got 1.5.")) == (
            "#GPUVAL! share must be between 0 and 1, got 1.5."
        )
        long = error_text("x" * 1000)
        assert len(long) == MAX_MESSAGE and long.endswith("…")

    def test_guard_maps_errors_to_text(self, caplog: pytest.LogCaptureFixture) -> None:
        @guard
        def f(mode: str) -> object:
            if mode == "input":
                raise InputError("share must be between 0 and 1, got 1.5.")
            if mode == "overflow":
                raise OverflowError("(34, 'Numerical result out of range')")
            if mode == "bug":
                raise KeyError("oops")
            if mode == "type":
                return len(5)  # type: ignore[arg-type]
            return 1.0

        assert f("ok") == 1.0
        assert f("input") == "#GPUVAL! share must be between 0 and 1, got 1.5."
        assert f("overflow").startswith(PREFIX + "the result is not a finite number")
        with caplog.at_level(logging.ERROR, logger="gpuval.excel"):
            assert f("bug") == "#GPUVAL! f failed unexpectedly (KeyError); please report it."
            assert f("type").startswith("#GPUVAL! f failed unexpectedly (TypeError)")
        assert "Traceback" in caplog.text  # the traceback goes to the log, never to the cell

    def test_required_marker_repr(self) -> None:
        assert repr(REQUIRED) == "REQUIRED"
