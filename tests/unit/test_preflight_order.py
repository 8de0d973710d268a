"""The preflight test order's terms: the market's minimum on its lot, priced on its tick 15 %
away from the touch on its own side, post-only; a sell when the account cannot pay the buy
but holds the base currency."""

from __future__ import annotations

from decimal import Decimal

import pytest

from workstation.domain.common import Side
from workstation.domain.market_data import BookSnapshot
from workstation.domain.markets import Market
from workstation.domain.order_vocabulary import OrderKind, TimeInForce
from workstation.services.probe_order import probe_order_terms

D = Decimal
BTCUSD = Market("btcusd", "BTC", "USD", 8, 0, 2, D("10"), True, True, "Bitcoin / U.S. dollar")
ETHBTC = Market("ethbtc", "ETH", "BTC", 8, 8, 8, D("0.0002"), True, True, "Ether / Bitcoin")


def book(bid: str | None, ask: str | None, market: str = "btcusd") -> BookSnapshot:
    bids = ((D(bid), D("1")),) if bid else ()
    asks = ((D(ask), D("1")),) if ask else ()
    return BookSnapshot(market, 0, bids, asks)


@pytest.mark.parametrize(
    ("market", "bid", "price", "amount"),
    [
        (BTCUSD, "67001", D("56950"), D("0.00017560")),  # 56950.85 down to the whole-dollar tick
        (ETHBTC, "0.05123457", D("0.04354938"), D("0.00459249")),
    ],
)
def test_a_buy_rests_15_percent_below_the_bid_at_the_minimum(
    market: Market, bid: str, price: Decimal, amount: Decimal
) -> None:
    probe = probe_order_terms(market, book(bid, None, market.symbol))
    assert probe is not None
    assert (probe.side, probe.price, probe.amount) == (Side.BUY, price, amount)
    assert probe.amount * probe.price >= market.minimum_order_value
    assert (probe.amount - market.lot) * probe.price < market.minimum_order_value  # the least
    request = probe.request
    assert (request.kind, request.tif) == (OrderKind.LIMIT, TimeInForce.MOC)  # post-only
    assert "below the best bid" in probe.terms()


def test_a_sell_when_the_account_cannot_pay_the_buy_but_holds_the_base() -> None:
    snapshot = book("67000", "67010")
    broke = {"usd": D("5"), "btc": D("1")}
    probe = probe_order_terms(BTCUSD, snapshot, broke)
    assert probe is not None
    assert (probe.side, probe.price) == (Side.SELL, D("77062"))  # 77061.5 up to the tick
    assert "sell 0.00012977 BTC at 77062 USD" in probe.terms()
    assert "above the best ask 67010" in probe.terms()

    funded = probe_order_terms(BTCUSD, snapshot, {"usd": D("100"), "btc": D("1")})
    neither = probe_order_terms(BTCUSD, snapshot, {"usd": D("5")})
    assert funded is not None
    assert neither is not None
    assert (funded.side, neither.side) == (Side.BUY, Side.BUY)  # refused, with the reason


def test_an_empty_book_has_no_test_order() -> None:
    assert probe_order_terms(BTCUSD, book(None, None)) is None
    only_asks = probe_order_terms(BTCUSD, book(None, "67010"))
    assert only_asks is not None
    assert only_asks.side is Side.SELL
