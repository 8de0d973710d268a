"""Market lists read: Bitstamp's trading pairs as ``Market`` values.

Two endpoints describe the pairs:

* ``GET /api/v2/markets/`` (reference 3.6), the current one, which ccxt's ``load_markets``
  reads. ccxt also derives currencies from it and throws unless ``description`` splits into
  exactly two parts on ``" / "`` and ``minimum_order_value`` is present.
* ``GET /api/v2/trading-pairs-info/`` (reference 3.7), obsolete since 2024 but still what
  cryptofeed 2.4.1 reads; ``minimum_order`` is ``"20.0 USD"`` text.

Rows are decoded by msgspec into structs that mirror the payload (numbers that Bitstamp sends
as strings stay strings and go through the strict ``parse_decimal``); unknown extra keys are
ignored, so new Bitstamp fields do not break us. Any wire error raises ``MarketCodecError``
naming the row and the field. The simulator writes these lists in
``workstation.sim.wire.markets``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import msgspec

from workstation.bitstamp.errors import ProtocolError
from workstation.bitstamp.fields import TOO_DEEP
from workstation.domain.markets import Market, parse_minimum_order
from workstation.domain.numbers import parse_decimal

__all__ = [
    "DISABLED",
    "ENABLED",
    "MarketCodecError",
    "parse_markets",
    "parse_trading_pairs_info",
]

#: The values of ``trading`` and ``instant_and_market_orders``.
ENABLED = "Enabled"
DISABLED = "Disabled"

_Status = Literal["Enabled", "Disabled"]
_Places = Annotated[int, msgspec.Meta(ge=0, le=30)]
_Row = TypeVar("_Row")


class MarketCodecError(ProtocolError):
    """A market list from the wire is malformed: missing key, wrong type, bad number."""


class _MarketRow(msgspec.Struct, frozen=True):
    """One row of ``GET /api/v2/markets/`` (reference 3.6, MarketSchema).

    Derivative-only and optional keys (``maximum_order_value``, ``minimum_order_amount``,
    ``underlying_asset``...) are not declared: msgspec skips them.
    """

    name: str
    market_symbol: str
    base_currency: str
    base_decimals: _Places
    counter_currency: str
    counter_decimals: _Places
    minimum_order_value: str
    trading: _Status
    instant_order_counter_decimals: _Places
    instant_and_market_orders: _Status
    description: str
    market_type: str


class _PairInfoRow(msgspec.Struct, frozen=True):
    """One row of the legacy ``GET /api/v2/trading-pairs-info/`` (reference 3.7).

    The 2022 recording has no ``instant_order_counter_decimals``; later rows do.
    """

    name: str
    url_symbol: str
    base_decimals: _Places
    counter_decimals: _Places
    minimum_order: str
    trading: _Status
    instant_and_market_orders: _Status
    description: str
    instant_order_counter_decimals: _Places | None = None


_market_rows = msgspec.json.Decoder(list[_MarketRow])
_pair_info_rows = msgspec.json.Decoder(list[_PairInfoRow])


def parse_markets(body: bytes) -> list[Market]:
    """Decode a ``GET /api/v2/markets/`` response body.

    Raises:
        MarketCodecError: the body is not a list of well-formed market rows.
    """
    rows = _decode(_market_rows, body, "markets")
    return [_convert(i, row.market_symbol, _market_from_row, row) for i, row in enumerate(rows)]


def parse_trading_pairs_info(body: bytes) -> list[Market]:
    """Decode a legacy ``GET /api/v2/trading-pairs-info/`` response body.

    Base and quote come from ``name`` split on ``"/"`` (as cryptofeed does). When a row has
    no ``instant_order_counter_decimals`` (as in 2022), the quote decimals are used: the
    closest rule the row gives us.

    Raises:
        MarketCodecError: the body is not a list of well-formed rows.
    """
    rows = _decode(_pair_info_rows, body, "trading-pairs-info")
    return [_convert(i, row.url_symbol, _market_from_pair_info, row) for i, row in enumerate(rows)]


def _decode(decoder: msgspec.json.Decoder[Any], body: bytes, what: str) -> Any:
    try:
        return decoder.decode(body)
    except RecursionError as exc:  # msgspec past the interpreter's depth
        raise MarketCodecError(f"{what}: {TOO_DEEP}") from exc
    except msgspec.DecodeError as exc:  # ValidationError is a subclass: both land here
        raise MarketCodecError(f"{what}: {exc}") from None


def _convert(index: int, symbol: str, build: Callable[[_Row], Market], row: _Row) -> Market:
    """Run ``build(row)`` and name the row in any error, so a bad pair is easy to find."""
    try:
        return build(row)
    except ValueError as exc:  # NumberFormatError, parse_minimum_order, Market checks
        raise MarketCodecError(f"market row {index} ({symbol!r}): {exc}") from None


def _market_from_row(row: _MarketRow) -> Market:
    minimum = parse_decimal(row.minimum_order_value, field="minimum_order_value")
    return Market(
        symbol=row.market_symbol,
        base=row.base_currency,
        quote=row.counter_currency,
        base_decimals=row.base_decimals,
        quote_decimals=row.counter_decimals,
        instant_quote_decimals=row.instant_order_counter_decimals,
        minimum_order_value=minimum,
        trading_enabled=row.trading == ENABLED,
        instant_and_market_enabled=row.instant_and_market_orders == ENABLED,
        description=row.description,
        market_type=row.market_type,
    )


def _market_from_pair_info(row: _PairInfoRow) -> Market:
    parts = row.name.split("/")
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"name must look like 'BTC/USD', not {row.name!r}")
    base, quote = parts
    minimum, currency = parse_minimum_order(row.minimum_order)
    if currency != quote:
        # Our rules keep the minimum in the quote currency; a row that says otherwise would
        # make every minimum check wrong, so refuse it rather than guess.
        raise ValueError(
            f"minimum_order {row.minimum_order!r} is not in the quote currency {quote}"
        )
    instant = row.instant_order_counter_decimals
    return Market(
        symbol=row.url_symbol,
        base=base,
        quote=quote,
        base_decimals=row.base_decimals,
        quote_decimals=row.counter_decimals,
        instant_quote_decimals=row.counter_decimals if instant is None else instant,
        minimum_order_value=minimum,
        trading_enabled=row.trading == ENABLED,
        instant_and_market_enabled=row.instant_and_market_orders == ENABLED,
        description=row.description,
    )
