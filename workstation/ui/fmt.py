"""Numbers as a trader reads them on screen: exact, aligned, never in exponent form."""

from __future__ import annotations

from decimal import Decimal

from ..domain.market_data import Ticker
from ..domain.markets import Market
from ..domain.numbers import from_units, units_text

__all__ = ["amount_text", "grouped", "price_text", "signed_bps", "ticker_text"]


def cell(text: str, width: int) -> str:
    """Right-aligned in ``width``; a value wider than its column still gets a space before it
    (the row is cut at the pane's edge), so numbers never run together."""
    return text.rjust(width) if len(text) < width else " " + text


def price_text(units: int, places: int) -> str:
    """A price in ticks with the market's decimals: ``6700268, 2 -> "67002.68"``."""
    return units_text(units, places)


def amount_text(units: int, places: int, shown: int) -> str:
    """An amount held with ``places`` decimals, shown with the market's ``shown`` decimals
    (the wire's extra zeros dropped; never rounded, as lots are never finer than ``shown``)."""
    text = units_text(units, places)
    if places > shown and "." in text:
        whole, _, frac = text.partition(".")
        cut = frac[:shown]
        if frac[shown:].strip("0"):
            cut = frac  # finer than the market's lot: show it all rather than hide it
        text = f"{whole}.{cut}" if cut else whole
    return text


def grouped(ticks: int, places: int) -> str:
    """A grouping step in ticks as a price increment: ``25, 2 -> "0.25"``."""
    return f"{from_units(ticks, places).normalize():f}"


def signed_bps(bps: Decimal) -> str:
    """``+3.10 bps`` / ``-0.52 bps``."""
    q = bps.quantize(Decimal("0.01"))
    return f"{'+' if q >= 0 else ''}{q:f} bps"


def ticker_text(ticker: Ticker, market: Market) -> str:
    """``last 67,012.40  24h -4.44%  high 70,311.80  low 66,795.93  vol 57.32 BTC``."""
    change = ticker.percent_change_24
    parts = [f"last {ticker.last:,f}"]
    if change is not None:
        parts.append(f"24h {'+' if change >= 0 else ''}{change:f}%")
    parts.append(f"high {ticker.high:,f}  low {ticker.low:,f}")
    parts.append(f"vol {ticker.volume.quantize(Decimal('0.01')):,f} {market.base}")
    return "  ".join(parts)
