"""The markets the simulator lists and where their prices start.

Decimals and minimums are those of Bitstamp's recorded trading-pairs-info (2022-01, the
``20.0 USD`` / ``0.0002 BTC`` minimums); starting prices are round figures near recent
levels. Tick sizes follow the quote decimals, as on Bitstamp.
"""

from __future__ import annotations

from decimal import Decimal

from ..domain.markets import Market

__all__ = ["CURRENCY_DECIMALS", "DEFAULT_MARKETS", "START_PRICES"]

_NAMES = {
    "BTC": "Bitcoin",
    "ETH": "Ether",
    "XRP": "XRP",
    "LTC": "Litecoin",
    "BCH": "Bitcoin Cash",
    "LINK": "Chainlink",
    "ADA": "Cardano",
    "USDC": "USD Coin",
    "USD": "U.S. dollar",
    "EUR": "Euro",
}


def _market(base: str, quote: str, base_dec: int, quote_dec: int, minimum: str) -> Market:
    return Market(
        symbol=f"{base}{quote}".lower(),
        base=base,
        quote=quote,
        base_decimals=base_dec,
        quote_decimals=quote_dec,
        instant_quote_decimals=quote_dec,
        minimum_order_value=Decimal(minimum),
        trading_enabled=True,
        instant_and_market_enabled=True,
        description=f"{_NAMES[base]} / {_NAMES[quote]}",
    )


DEFAULT_MARKETS: tuple[Market, ...] = (
    _market("BTC", "USD", 8, 2, "20"),
    _market("BTC", "EUR", 8, 2, "20"),
    _market("ETH", "USD", 8, 2, "20"),
    _market("ETH", "EUR", 8, 2, "20"),
    _market("ETH", "BTC", 8, 8, "0.0002"),
    _market("XRP", "USD", 8, 5, "20"),
    _market("XRP", "EUR", 8, 5, "20"),
    _market("LTC", "USD", 8, 2, "20"),
    _market("BCH", "USD", 8, 2, "20"),
    _market("LINK", "USD", 8, 2, "20"),
    _market("ADA", "USD", 8, 5, "20"),
    _market("USDC", "USD", 5, 5, "20"),
)

START_PRICES: dict[str, Decimal] = {
    "btcusd": Decimal("67000.00"),
    "btceur": Decimal("62000.00"),
    "ethusd": Decimal("3200.00"),
    "etheur": Decimal("2960.00"),
    "ethbtc": Decimal("0.04776000"),
    "xrpusd": Decimal("0.52000"),
    "xrpeur": Decimal("0.48100"),
    "ltcusd": Decimal("72.00"),
    "bchusd": Decimal("380.00"),
    "linkusd": Decimal("14.00"),
    "adausd": Decimal("0.45000"),
    "usdcusd": Decimal("1.00000"),
}

#: Decimals Bitstamp writes balances and user transaction amounts with (the recorded balances:
#: 8 for crypto, 5 for stablecoins, 2 for fiat). Padding only: a value never loses a digit.
CURRENCY_DECIMALS: dict[str, int] = {
    "btc": 8,
    "eth": 8,
    "xrp": 8,
    "ltc": 8,
    "bch": 8,
    "link": 8,
    "ada": 8,
    "usdc": 5,
    "usdt": 5,
    "usd": 2,
    "eur": 2,
    "gbp": 2,
}
