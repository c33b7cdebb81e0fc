"""Currency conversion, market value, per-share value and upside.

FX convention used throughout the core: ``fx`` is the number of units of the *destination*
currency per one unit of the *source* currency (e.g. HKD per CNY = 1.09 converts CNY into HKD by
multiplication). Rates are always passed explicitly; the core holds no FX state.
"""

from __future__ import annotations

from gpuval.core.validate import ArrayLike, FloatOrArray, as_float, broadcast_shape, out, positive

__all__ = [
    "LISTING_VALUE_LABEL_XL",
    "TODAY_LABEL_XL",
    "convert",
    "listing_value",
    "listing_value_xl",
    "market_value",
    "per_share",
    "per_share_or_none",
    "per_share_xl",
    "upside",
    "upside_xl",
    "usd_per_unit",
    "usd_per_unit_xl",
]


def convert(amount: ArrayLike, fx: ArrayLike) -> FloatOrArray:
    """Convert an amount between currencies.

    ``converted = amount x fx``, with ``fx`` in destination units per source unit (> 0).

    >>> convert(50e9, 7.0)  # USD 50 bn at CNY 7.0 per USD -> CNY 350 bn
    350000000000.0
    """
    a = as_float("amount", amount)
    f = positive("fx", fx)
    broadcast_shape(amount=a, fx=f)
    return out(a * f)


def market_value(
    price: ArrayLike, shares_outstanding: ArrayLike, fx: ArrayLike = 1.0
) -> FloatOrArray:
    """Market value of equity.

    ``market_value = price x shares_outstanding x fx`` (price in the listing currency, ``fx``
    into the valuation currency).

    >>> market_value(19.6, 2.0e9)  # HKD 19.60 x 2.0 bn shares = HKD 39.2 bn
    39200000000.0
    """
    p = positive("price", price)
    n = positive("shares_outstanding", shares_outstanding)
    f = positive("fx", fx)
    broadcast_shape(price=p, shares_outstanding=n, fx=f)
    return out(p * n * f)


def per_share(value: ArrayLike, shares_outstanding: ArrayLike, fx: ArrayLike = 1.0) -> FloatOrArray:
    """Equity value per share in the listing currency.

    ``per_share = value x fx / shares_outstanding`` (``value`` in the valuation currency,
    ``fx`` = listing-currency units per valuation-currency unit).

    >>> round(per_share(100e9, 2.5e9, fx=1.09), 10)  # CNY 100 bn / 2.5 bn shares at 1.09 HKD/CNY
    43.6
    """
    v = as_float("value", value)
    n = positive("shares_outstanding", shares_outstanding)
    f = positive("fx", fx)
    broadcast_shape(value=v, shares_outstanding=n, fx=f)
    return out(v * f / n)


def per_share_or_none(value: float, shares_outstanding: float, fx: float = 1.0) -> float | None:
    """The workbook's per-share rule: :func:`per_share` when a share count is known
    (``shares_outstanding > 0``), else ``None`` (the sheet's "n/a").

    >>> per_share_or_none(10.0, 0.0) is None, per_share_or_none(10.0, 4.0, fx=2.0)
    (True, 5.0)
    """
    if not shares_outstanding > 0:
        return None
    return float(per_share(value, shares_outstanding, fx))


def per_share_xl(value: str, shares: str = "tgt_shares", fx: str = "tgt_fx") -> str:
    """Excel of :func:`per_share_or_none`: ``IF(shares>0,value*fx/shares,"n/a")``."""
    return f'IF({shares}>0,{value}*{fx}/{shares},"n/a")'


def listing_value(value: float, shares_outstanding: float, fx: float = 1.0) -> float:
    """What the workbook shows for a value in the listing currency: per share when a share count
    is known, ``value x fx / shares``, else the equity value itself, ``value x fx`` (labelled as
    an equity value wherever it is shown).

    >>> listing_value(10.0, 4.0, fx=2.0), listing_value(10.0, 0.0, fx=2.0)
    (5.0, 20.0)
    """
    per = per_share_or_none(value, shares_outstanding, fx)
    return float(value * fx) if per is None else per


def listing_value_xl(value: str, shares: str = "tgt_shares", fx: str = "tgt_fx") -> str:
    """Excel of :func:`listing_value`: ``IF(shares>0,value*fx/shares,value*fx)``."""
    return f"IF({shares}>0,{value}*{fx}/{shares},{value}*{fx})"


LISTING_VALUE_LABEL_XL = (
    '=IF(tgt_shares>0,"Value per share","Equity value (no share count)")&" ("&tgt_ccy&")"'
)
"""The label of a :func:`listing_value_xl` cell: it says which of the two the cell holds."""

TODAY_LABEL_XL = '=IF(tgt_shares>0,"Share price","Market value")&" on Peers ("&tgt_ccy&")"'
"""The label of the target's market figure (``tgt_now``): its price, or its market value, as
Peers gives it (dated, and a bound or a peak where Peers says so)."""


def upside(value: ArrayLike, price: ArrayLike) -> FloatOrArray:
    """Upside (or downside, if negative) of a value per share against the price.

    ``upside = value / price - 1`` (both per share, same currency).

    >>> upside(30.0, 24.0)
    0.25
    """
    v = as_float("value", value)
    p = positive("price", price)
    broadcast_shape(value=v, price=p)
    return out(v / p - 1.0)


def upside_xl(value: str, price: str) -> str:
    """Excel of :func:`upside`: ``value/price-1``."""
    return f"{value}/{price}-1"


def usd_per_unit(ccy: str, usd_per_hkd: float, cny_per_usd: float) -> float | None:
    """USD per unit of ``ccy`` (USD, HKD or CNY) from the model's two FX inputs; None for any
    other currency.

    >>> usd_per_unit("HKD", 0.128, 7.0), usd_per_unit("CNY", 0.128, 8.0), usd_per_unit("EUR", 1, 1)
    (0.128, 0.125, None)
    """
    positive("usd_per_hkd", usd_per_hkd)
    positive("cny_per_usd", cny_per_usd)
    return {"USD": 1.0, "HKD": usd_per_hkd, "CNY": 1 / cny_per_usd}.get(ccy)


def usd_per_unit_xl(ccy: str, usd_per_hkd: str, cny_per_usd: str) -> str:
    """Excel of :func:`usd_per_unit`, "n/a" for any other currency."""
    return (f'IF({ccy}="USD",1,IF({ccy}="HKD",{usd_per_hkd},'
            f'IF({ccy}="CNY",1/{cny_per_usd},"n/a")))')  # fmt: skip
