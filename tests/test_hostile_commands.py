"""Every gpuval command on every hostile corpus item: one sentence, non-zero exit, nothing lost.

The commands are the rows of :data:`COMMANDS`; each says which corpus family it takes (``xlsx``,
``datasets`` or ``prices``) and how to call it on one corpus file and ``out``, a path that
already holds a good gpuval workbook (an output to be replaced, or the workbook a prices file
updates). A new command joins every test here by adding a row, e.g.
``Command("check", "xlsx", lambda item, out: ["check", str(item)], False)`` or
``Command("refresh --prices", "prices", lambda item, out: ["refresh", str(out), "--prices",
str(item)], True)``, and, where a corpus item is *valid* input for it, an entry in
:data:`ACCEPTED`. On failure neither the corpus file nor anything in ``out``'s folder may change.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook

from gpuval.cli import main
from gpuval.workbook.build import build
from gpuval.workbook.evaluate import evaluate
from hostile import make_corpus as mc


@dataclass(frozen=True)
class Command:
    name: str
    takes: str  # the corpus family: "xlsx", "datasets" or "prices"
    argv: Callable[[Path, Path], list[str]]  # (corpus file, out) -> arguments
    writes: bool  # whether it writes ``out`` on success


COMMANDS = [
    Command("evaluate", "xlsx", lambda item, out: ["evaluate", str(item)], False),
    Command("build --template", "xlsx",
            lambda item, out: ["build", "--template", str(item), "--out", str(out)], True),
    Command("data", "datasets", lambda item, out: ["data", "--dataset", str(item)], False),
    Command("build --dataset", "datasets",
            lambda item, out: ["build", "--dataset", str(item), "--out", str(out)], True),
]  # fmt: skip

#: (command, corpus item) pairs that are valid input for that command and must succeed.
ACCEPTED = {
    # evaluate reads only the in_ cells; a #REF! in a model formula is for `gpuval check`.
    ("evaluate", "ref_error"),
    # Excel renames a sheet together with every reference to it, so the names still resolve.
    ("evaluate", "renamed_sheet"),
    # Text from data that looks like a formula is data: it is loaded, and written as text.
    ("data", "injection"),
    ("build --dataset", "injection"),
}

NAMES = {"xlsx": mc.XLSX_NAMES, "datasets": mc.DATASET_NAMES, "prices": mc.PRICE_NAMES}
CASES = [(c, item) for c in COMMANDS for item in NAMES[c.takes]]
#: stderr lines a command may print before its error (progress and notes).
PROGRESS = re.compile(r"^(gpuval: note: |\[\d+/\d+\] )")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("hostile_base") / "gpu_valuation.xlsx")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, base: Path) -> dict[str, dict[str, Path]]:
    root = tmp_path_factory.mktemp("hostile_corpus")
    return {
        "xlsx": mc.write_xlsx(root / "xlsx", base),
        "datasets": mc.write_datasets(root / "datasets"),
        "prices": mc.write_prices(root / "prices"),
    }


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(directory: Path) -> dict[str, str]:
    return {p.name: _digest(p) for p in sorted(directory.iterdir()) if p.is_file()}


def _error_line(err: str, item: Path) -> str:
    """The one 'gpuval: error:' line; every other line must be progress."""
    assert "Traceback" not in err
    lines = err.strip("\n").split("\n")
    errors = [line for line in lines if line.startswith("gpuval: error: ")]
    assert len(errors) == 1, err
    assert lines[-1] == errors[0], err
    assert all(PROGRESS.match(line) for line in lines[:-1]), err
    assert item.name in errors[0], f"the error does not name {item.name}: {errors[0]}"
    sentence = errors[0].removeprefix("gpuval: error: ")
    assert sentence.endswith("."), sentence
    return sentence


def _case_id(case: tuple[Command, str]) -> str:
    return f"{case[0].name.replace(' ', '')}-{case[1]}"


def _param(case: tuple[Command, str]) -> object:
    return pytest.param(*case, id=_case_id(case))


@pytest.mark.parametrize(("command", "item"), [_param(c) for c in CASES])
def test_command_on_corpus_item(
    command: Command,
    item: str,
    corpus: dict[str, dict[str, Path]],
    base: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = corpus[command.takes][item]
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "gpu_valuation.xlsx"
    out.write_bytes(base.read_bytes())  # an analyst's existing workbook
    before_input, before_out = _digest(path), _tree(out_dir)
    input_dir_before = _tree(path.parent)

    status = main(command.argv(path, out))
    _, err = capsys.readouterr()

    assert _digest(path) == before_input, "the input file was changed"
    assert _tree(path.parent) == input_dir_before, "files appeared beside the input"
    if (command.name, item) in ACCEPTED:
        assert status == 0, err
        if command.writes:
            _assert_text_is_text(out)
        return
    assert status != 0
    _error_line(err, path)
    assert _tree(out_dir) == before_out, "the output was written or the existing file changed"


INJECTED = [*mc.INJECTED.values(), mc.INJECTED_NOTE]


def _assert_text_is_text(workbook: Path) -> None:
    """No formula in the built workbook carries text injected through the dataset, and the
    injected English name (shown in the peer table) is there as a text cell."""
    wb = load_workbook(workbook)
    as_text = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formula = str(cell.value)
                    assert not any(text.lstrip("=") in formula for text in INJECTED), (
                        f"{ws.title}!{cell.coordinate} holds injected text as a formula: {formula}"
                    )
                elif cell.data_type == "s" and cell.value == mc.INJECTED["name_en"]:
                    as_text.append(f"{ws.title}!{cell.coordinate}")
    assert as_text, "the injected name is not in the workbook, so nothing was tested"


def test_the_accepted_items_exist() -> None:
    names = {c.name: NAMES[c.takes] for c in COMMANDS}
    for command, item in ACCEPTED:
        assert item in names[command], (command, item)


# --- what the accepted items mean ------------------------------------------------------------


def test_ref_error_in_a_model_cell_leaves_evaluate_unchanged(
    base: Path, corpus: dict[str, dict[str, Path]]
) -> None:
    assert evaluate(corpus["xlsx"]["ref_error"]) == evaluate(base)


def test_a_sheet_renamed_in_excel_still_evaluates(
    base: Path, corpus: dict[str, dict[str, Path]]
) -> None:
    renamed = corpus["xlsx"]["renamed_sheet"]
    assert mc.RENAMED[1] in load_workbook(renamed).sheetnames
    assert evaluate(renamed) == evaluate(base)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("deleted_name", f"has no usable defined name {mc.DELETED_NAME!r}."),
        ("renamed_sheet_dangling", "has no usable defined name 'in_target'."),
        ("not_gpuval", "has no usable defined name 'in_target'."),
    ],
)
def test_gpuval_specific_evaluate_errors(
    item: str,
    message: str,
    corpus: dict[str, dict[str, Path]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = corpus["xlsx"][item]
    assert main(["evaluate", str(path)]) == 1
    assert capsys.readouterr().err == f"gpuval: error: Workbook {path.name} {message}\n"


# --- a real process: exit status, stderr and memory -------------------------------------------


@pytest.mark.parametrize("item", ["zip_bomb", "zip_bomb_lying", "entity_bomb", "encrypted"])
def test_real_process_refuses_bombs_and_encrypted_files(
    item: str, corpus: dict[str, dict[str, Path]]
) -> None:
    path = corpus["xlsx"][item]
    result = subprocess.run(  # the timeout guards against a hang; speed is not asserted
        [sys.executable, "-m", "gpuval.cli", "evaluate", str(path)],
        capture_output=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "GPUVAL_DEBUG"},
    )
    assert result.returncode == 1
    assert result.stdout == b""
    _error_line(result.stderr.decode(), path)


def test_real_process_memory(corpus: dict[str, dict[str, Path]]) -> None:
    """The 1 GiB bombs are refused by a process that never grows past a few hundred MB."""
    for item in ("zip_bomb", "zip_bomb_lying"):
        path = corpus["xlsx"][item]
        with open(os.devnull, "wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "gpuval.cli", "evaluate", str(path)],
                stdout=sink,
                stderr=sink,
            )
            _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        assert process.returncode == 1
        assert usage.ru_maxrss * 1024 < 400 * 2**20, f"{item}: {usage.ru_maxrss} KiB"
