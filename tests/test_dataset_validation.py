"""Every class of bad record is refused with one sentence naming the file, record and problem."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gpuval.cli import main
from gpuval.data.dataset import MAX_BYTES, load_dataset
from gpuval.errors import GpuvalError

SEED = "seed_a.txt"
SENTENCE = "壁仞科技2024年全年營收3.37億元,市值1027億港元,市場份額5%。"

VALID: dict[str, Any] = {
    "meta": {"version": "test"},
    "entity": [
        {
            "id": "acme",
            "name_en": "Acme",
            "name_zh": "甲",
            "kind": "company",
            "listing_currency": "HKD",
        },
    ],
    "sentence": [
        {
            "source": SEED,
            "text": SENTENCE,
            "figure": [
                {
                    "id": "acme.revenue",
                    "entity": "acme",
                    "metric": "revenue",
                    "unit": "CNY",
                    "period": "2024",
                    "kind": "reported",
                    "written": "3.37億元",
                },
                {
                    "id": "acme.market_cap",
                    "entity": "acme",
                    "metric": "market_cap",
                    "unit": "HKD",
                    "kind": "reported",
                    "written": "1027億港元",
                },
                {
                    "id": "acme.market_share",
                    "entity": "acme",
                    "metric": "market_share",
                    "unit": "fraction",
                    "kind": "estimate",
                    "written": "5%",
                },
            ],
        }
    ],
    "derived": [
        {
            "id": "acme.ps",
            "entity": "acme",
            "metric": "ps",
            "unit": "multiple",
            "op": "div",
            "inputs": ["acme.market_cap", "acme.revenue"],
        },
    ],
    "relation": [{"kind": "equal", "stated": "acme.revenue", "inputs": ["acme.revenue"]}],
}


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / SEED).write_text(f"標題\n{SENTENCE}\n結尾。\n", encoding="utf-8")
    return folder


def write(tmp_path: Path, data: dict[str, Any], name: str = "bad.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def mutated(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    change(data)
    return data


def figure(data: dict[str, Any], i: int = 0) -> dict[str, Any]:
    return data["sentence"][0]["figure"][i]


def test_valid_fixture_loads(tmp_path: Path, seeds: Path) -> None:
    dataset = load_dataset(write(tmp_path, VALID), seeds=seeds)
    assert dataset["acme.revenue"].value == 337_000_000
    assert dataset["acme.ps"].value == pytest.approx(102_700_000_000 / 337_000_000)


#: A date record (no value), from the sentence's "2024年".
DATE_FIGURE = {
    "id": "acme.founded",
    "entity": "acme",
    "metric": "founded",
    "unit": "date",
    "period": "2024-01-01",
    "kind": "reported",
    "written": "2024年",
}

CASES: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    (
        "missing field",
        lambda d: figure(d).pop("unit"),
        "record 'acme.revenue' is missing the required field 'unit'",
    ),
    (
        "wrong type",
        lambda d: figure(d).update(value="3.37e8"),
        "record 'acme.revenue': field 'value': input should be a valid number, got '3.37e8'",
    ),
    (
        "wrong type bool",
        lambda d: figure(d).update(value=True),
        "record 'acme.revenue': field 'value'",
    ),
    (
        "unknown unit",
        lambda d: figure(d).update(unit="EUR"),
        "record 'acme.revenue': field 'unit': unknown unit 'EUR'",
    ),
    (
        "unknown currency pair",
        lambda d: figure(d, 1).update(unit="EUR per HKD"),
        "record 'acme.market_cap': field 'unit': unknown unit 'EUR per HKD'",
    ),
    (
        "unknown listing currency",
        lambda d: d["entity"][0].update(listing_currency="JPY"),
        "entity 'acme': field 'listing_currency'",
    ),
    (
        "unknown kind",
        lambda d: figure(d).update(kind="rumour"),
        "record 'acme.revenue': field 'kind'",
    ),
    (
        "bad period",
        lambda d: figure(d).update(period="FY24"),
        "record 'acme.revenue': field 'period': period 'FY24' is not",
    ),
    (
        "extra field",
        lambda d: figure(d).update(valeu=1),
        "record 'acme.revenue' has an unknown field 'valeu'",
    ),
    (
        "negative revenue",
        lambda d: figure(d).update(written="營收", value=-3.37e8),
        "record 'acme.revenue': revenue cannot be negative, got -3.37e+08",
    ),
    (
        "share above one",
        lambda d: figure(d, 2).update(written="5", value=5),
        "record 'acme.market_share': market_share is a share and must lie in 0..1, got 5",
    ),
    (
        "value disagrees with written",
        lambda d: figure(d).update(value=3.37e9),
        "record 'acme.revenue': value 3370000000.0 does not match the written figure '3.37億元'",
    ),
    (
        "written not in sentence",
        lambda d: figure(d).update(written="3.38億元"),
        "record 'acme.revenue': written figure '3.38億元' does not occur in its sentence",
    ),
    (
        "unparseable written needs value",
        lambda d: figure(d).update(written="營收"),
        "written figure '營收' is not a plain number, so 'value' must be given",
    ),
    (
        "infinite value",
        lambda d: figure(d, 2).update(written="市場", value=float("inf")),
        "record 'acme.market_share': value must be a finite number",
    ),
    (
        "duplicate id",
        lambda d: figure(d, 1).update(id="acme.revenue"),
        "record 'acme.revenue': this record id is used twice",
    ),
    (
        "duplicate content",
        lambda d: d["sentence"][0]["figure"].append({**figure(d), "id": "acme.revenue.again"}),
        "record 'acme.revenue.again': duplicate of record 'acme.revenue'",
    ),
    (
        "duplicate entity",
        lambda d: d["entity"].append(dict(d["entity"][0])),
        "entity 'acme': this entity id is defined twice",
    ),
    (
        "unknown entity",
        lambda d: figure(d).update(entity="nobody"),
        "record 'acme.revenue': entity 'nobody' is not defined",
    ),
    (
        "quote not in seed",
        lambda d: d["sentence"][0].update(text=SENTENCE.replace("全年", "全")),
        "this quote is not found verbatim in seed file 'seed_a.txt'",
    ),
    (
        "seed file missing",
        lambda d: d["sentence"][0].update(source="nope.txt"),
        "cites seed file 'nope.txt', which is not in",
    ),
    (
        "seed path escapes",
        lambda d: d["sentence"][0].update(source="../seeds/seed_a.txt"),
        "cites seed file '../seeds/seed_a.txt'",
    ),
    (
        "derived input missing",
        lambda d: d["derived"][0].update(inputs=["acme.nope"]),
        "derived record 'acme.ps': input 'acme.nope' is not a record defined above it",
    ),
    (
        "derived wrong arity",
        lambda d: d["derived"][0].update(op="double"),
        "derived record 'acme.ps': operation 'double' takes 1 inputs",
    ),
    (
        "relation to nothing",
        lambda d: d["relation"][0].update(inputs=["acme.nope"]),
        "relation on 'acme.revenue': record 'acme.nope' does not exist",
    ),
    (
        "fx default not a rate",
        lambda d: d.update(fx={"USD per HKD": "acme.revenue"}),
        "[fx] 'USD per HKD': record 'acme.revenue' has unit 'CNY'",
    ),
    (
        "no sentences",
        lambda d: d.update(sentence=[]),
        "field 'sentence': list should have at least 1 item",
    ),
    ("table is a list", lambda d: d.update(meta=[1]), "field 'meta'"),
    (  # build and refresh had stopped on openpyxl's IllegalCharacterError
        "control character",
        lambda d: d["entity"][0].update(name_en="Acme\u0007Chips"),
        "entity 'acme': field 'name_en': contains the control character U+0007, which a "
        "workbook cannot hold",
    ),
    (  # it went unescaped into the name data_version and into every page header
        "version with quotes",
        lambda d: d["meta"].update(version='2026 "draft"'),
        "field 'version': string should match pattern",
    ),
    (
        "relation on a date",
        lambda d: (
            d["sentence"][0]["figure"].append(DATE_FIGURE),
            d["relation"][0].update(stated="acme.founded"),
        ),
        "relation on 'acme.founded': record 'acme.founded' is a date",
    ),
]


@pytest.mark.parametrize(("case", "change", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_record(
    tmp_path: Path, seeds: Path, case: str, change: Callable[[dict[str, Any]], object], message: str
) -> None:
    path = write(tmp_path, mutated(change))
    with pytest.raises(GpuvalError) as info:
        load_dataset(path, seeds=seeds)
    text = str(info.value)
    assert text.startswith("bad.json: "), text
    assert message in text, text
    assert text.endswith(".") and "\n" not in text


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.toml", b"[meta\nversion = 1", "bad.toml is not valid TOML"),
        ("bad.json", b'{"meta": ', "bad.json is not valid JSON"),
        ("bad.json", b"[1, 2]", "must hold a table of tables"),
        ("bad.toml", "版本".encode("gb18030"), "is not UTF-8 text"),
    ],
)
def test_malformed_file(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(GpuvalError, match=message):
        load_dataset(path)


def test_a_byte_order_mark_is_read_past(tmp_path: Path, seeds: Path) -> None:
    """As Notepad saves UTF-8: a dataset with a BOM in front loads as without it (TOML had said
    "Invalid statement (at line 1, column 1)", JSON "decode using utf-8-sig")."""
    from conftest import seeds_location
    from gpuval.data.dataset import default_dataset_path

    toml = tmp_path / "bom.toml"
    toml.write_bytes(b"\xef\xbb\xbf" + default_dataset_path().read_bytes())
    shipped = load_dataset(default_dataset_path(), seeds=seeds_location())
    assert len(load_dataset(toml, seeds=seeds_location()).records) == len(shipped.records)
    plain = write(tmp_path, mutated(lambda d: None), name="plain.json")
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    assert load_dataset(bom, seeds=seeds).version == load_dataset(plain, seeds=seeds).version


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    with path.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)
    with pytest.raises(GpuvalError, match="over the 5,000,000-byte limit"):
        load_dataset(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(GpuvalError, match=r"Cannot read dataset .*nope\.toml"):
        load_dataset(tmp_path / "nope.toml")


def test_quotes_unchecked_without_seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a seed folder the quote check is skipped, and the dataset says so."""
    monkeypatch.setenv("GPUVAL_SEEDS", str(tmp_path / "absent"))
    data = mutated(lambda d: d["sentence"][0].update(text=SENTENCE + "!"))
    with pytest.raises(GpuvalError, match="cites seed file"):
        load_dataset(write(tmp_path, data))  # the env var names a folder: it must exist...
    monkeypatch.delenv("GPUVAL_SEEDS")
    monkeypatch.setattr("gpuval.data.dataset.default_seeds_dir", lambda: None)
    assert not load_dataset(write(tmp_path, data)).seeds_checked


def test_cli_reports_one_sentence_and_fails(
    tmp_path: Path, seeds: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, mutated(lambda d: figure(d).update(written="營收", value=-3.37e8)))
    status = main(["data", "--dataset", str(path), "--seeds", str(seeds)])
    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("gpuval: error: bad.json: record 'acme.revenue': revenue cannot be")
    assert "Traceback" not in err
