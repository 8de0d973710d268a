"""Market lists written for the simulator to serve: ``/api/v2/markets/`` (reference 3.6) and
the legacy ``/api/v2/trading-pairs-info/`` (reference 3.7).

JSON-ready rows with Bitstamp's keys and JSON types. Kept apart from the parsers in
``workstation.bitstamp.markets``: only the server side writes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ...bitstamp.markets import DISABLED, ENABLED
from ...domain.markets import Market
from ...domain.numbers import plain
from .fields import padded

__all__ = ["encode_markets", "encode_trading_pairs_info"]


def encode_markets(markets: Iterable[Market]) -> list[dict[str, Any]]:
    """Rows for ``GET /api/v2/markets/`` exactly as Bitstamp sends them (reference 3.6).

    ``minimum_order_value`` is a string with the quote decimals (more if the value needs
    them, so nothing is rounded away). A description that would not split into two parts on
    ``" / "`` is replaced by ``"BASE / QUOTE"``, because ccxt throws on it.
    """
    return [
        {
            "name": market.name,
            "market_symbol": market.symbol,
            "base_currency": market.base,
            "base_decimals": market.base_decimals,
            "counter_currency": market.quote,
            "counter_decimals": market.quote_decimals,
            "minimum_order_value": padded(market.minimum_order_value, market.quote_decimals),
            "trading": _status(market.trading_enabled),
            "instant_order_counter_decimals": market.instant_quote_decimals,
            "instant_and_market_orders": _status(market.instant_and_market_enabled),
            "description": _description(market),
            "market_type": market.market_type,
        }
        for market in markets
    ]


def encode_trading_pairs_info(markets: Iterable[Market]) -> list[dict[str, Any]]:
    """Rows for the legacy ``GET /api/v2/trading-pairs-info/`` (reference 3.7).

    Only spot markets: the endpoint predates derivatives. ``minimum_order`` is written the
    way the 2022 recording shows it: ``"20.0 USD"``, ``"0.0002 BTC"``.
    """
    return [
        {
            "name": market.name,
            "url_symbol": market.symbol,
            "base_decimals": market.base_decimals,
            "counter_decimals": market.quote_decimals,
            "instant_order_counter_decimals": market.instant_quote_decimals,
            "minimum_order": f"{_legacy_number(market.minimum_order_value)} {market.quote}",
            "trading": _status(market.trading_enabled),
            "instant_and_market_orders": _status(market.instant_and_market_enabled),
            "description": _description(market),
        }
        for market in markets
        if market.market_type == "SPOT"
    ]


def _status(enabled: bool) -> str:
    return ENABLED if enabled else DISABLED


def _description(market: Market) -> str:
    if len(market.description.split(" / ")) == 2:
        return market.description
    return f"{market.base} / {market.quote}"


def _legacy_number(value: Decimal) -> str:
    """``20`` -> ``"20.0"``, ``0.0002`` -> ``"0.0002"``: the legacy endpoint's number form."""
    text = plain(value)
    return text if "." in text else f"{text}.0"
