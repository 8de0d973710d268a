"""The guards: each refuses what it should and lets through what it should, exactly at the
boundary (hypothesis), and every breach names its key and where to change it."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workstation.domain.common import Side
from workstation.domain.guards import (
    DEFAULT_LIMITS,
    Guard,
    GuardLimits,
    breaches,
    deviation_bps,
    mid_of,
)
from workstation.domain.market_data import BookSnapshot
from workstation.domain.markets import Market
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind
from workstation.domain.orderbook import OrderBook
from workstation.domain.preview import preview_market

D = Decimal
SOURCE = "/home/trader/.config/bitstamp-workstation/config.toml"
LIVE = GuardLimits(
    env="live",
    max_notional={"USD": D(10_000), "BTC": D("0.1")},
    max_amount={"btcusd": D("0.25")},
    price_band_bps=D(500),
    market_slippage_bps=D(50),
    source=SOURCE,
)


def market(base: str = "BTC", quote: str = "USD", quote_decimals: int = 2) -> Market:
    return Market(
        symbol=f"{base}{quote}".lower(),
        base=base,
        quote=quote,
        base_decimals=8,
        quote_decimals=quote_decimals,
        instant_quote_decimals=quote_decimals,
        minimum_order_value=D(10),
        trading_enabled=True,
        instant_and_market_enabled=True,
        description=f"{base} / {quote}",
    )


BTCUSD = market()


def limit(amount: str, price: str, side: Side = Side.BUY) -> OrderRequest:
    return OrderRequest("btcusd", side, OrderKind.LIMIT, D(amount), D(price))


def guards_of(found: tuple) -> list[Guard]:
    return [b.guard for b in found]


def thin_book() -> OrderBook:
    """Bids 40,000 x 1, 39,500 x 1, 38,000 x 3: a 5 BTC sell walks 325 bps below the touch
    (like the 314 bps market sell that went through with no warning); asks 40,010 x 1."""
    book = OrderBook("btcusd", 2, 8)
    book.load(
        [(D("40000.00"), D(1)), (D("39500.00"), D(1)), (D("38000.00"), D(3))],
        [(D("40010.00"), D(1))],
        timestamp_us=1,
    )
    return book


# -- limit orders ----------------------------------------------------------------------------


def test_an_order_inside_every_guard_passes() -> None:
    assert breaches(limit("0.1", "40000"), BTCUSD, mid=D(40005), preview=None, limits=LIVE) == ()


def test_notional_over_the_maximum_is_a_breach_naming_its_key_and_file() -> None:
    # 0.25 BTC at 40,100 = 10,025 USD > 10,000
    (found,) = breaches(limit("0.25", "40100"), BTCUSD, mid=D(40005), preview=None, limits=LIVE)
    assert found.guard is Guard.MAX_NOTIONAL
    assert found.key == "live.max_notional.USD"
    assert "10025" in found.message
    assert "10000 USD maximum" in found.message
    assert str(found).endswith(f"(guard live.max_notional.USD; change it in {SOURCE})")


def test_notional_exactly_at_the_maximum_passes() -> None:
    assert breaches(limit("0.25", "40000"), BTCUSD, mid=D(40000), preview=None, limits=LIVE) == ()


def test_a_quote_currency_without_a_maximum_is_a_breach() -> None:
    eur = market("BTC", "EUR")
    request = OrderRequest("btceur", Side.BUY, OrderKind.LIMIT, D("0.01"), D(40000))
    (found,) = breaches(request, eur, mid=D(40000), preview=None, limits=LIVE)
    assert (found.guard, found.key) == (Guard.MAX_NOTIONAL, "live.max_notional.EUR")
    assert "no maximum order value is set for EUR" in found.message


def test_the_quote_currency_limit_applies_in_that_currency() -> None:
    ethbtc = market("ETH", "BTC", 8)
    request = OrderRequest("ethbtc", Side.SELL, OrderKind.LIMIT, D(3), D("0.035"))  # 0.105 BTC
    found = breaches(request, ethbtc, mid=D("0.035"), preview=None, limits=LIVE)
    assert [b.key for b in found] == ["live.max_notional.BTC"]


def test_amount_over_the_pairs_maximum_is_a_breach_and_at_it_passes() -> None:
    roomy = replace(LIVE, max_notional={"USD": D(10**9)})
    found = breaches(limit("0.26", "40000"), BTCUSD, mid=D(40000), preview=None, limits=roomy)
    assert [(b.guard, b.key) for b in found] == [(Guard.MAX_AMOUNT, "live.max_amount.btcusd")]
    assert "0.26 BTC is over the 0.25 BTC maximum for BTC/USD" in found[0].message
    assert breaches(limit("0.25", "40000"), BTCUSD, mid=D(40000), preview=None, limits=roomy) == ()


def test_a_pair_without_an_amount_maximum_has_none() -> None:
    ethusd = market("ETH", "USD")
    request = OrderRequest("ethusd", Side.BUY, OrderKind.LIMIT, D(2), D(3000))
    assert breaches(request, ethusd, mid=D(3000), preview=None, limits=LIVE) == ()


@pytest.mark.parametrize(("price", "side"), [("42000.04", "above"), ("37999.96", "below")])
def test_a_limit_price_outside_the_band_around_mid_is_a_breach(price: str, side: str) -> None:
    found = breaches(limit("0.01", price), BTCUSD, mid=D(40000), preview=None, limits=LIVE)
    assert guards_of(found) == [Guard.PRICE_BAND]
    assert found[0].key == "live.price_band_bps"
    assert f"is 500.01 bps {side} the mid 40000; the band is 500 bps" in found[0].message


@pytest.mark.parametrize("price", ["42000", "38000"])
def test_a_limit_price_on_the_band_passes(price: str) -> None:
    assert breaches(limit("0.01", price), BTCUSD, mid=D(40000), preview=None, limits=LIVE) == ()


def test_a_limit_order_without_a_mid_breaches_the_band() -> None:
    found = breaches(limit("0.01", "40000"), BTCUSD, mid=None, preview=None, limits=LIVE)
    assert guards_of(found) == [Guard.PRICE_BAND]
    assert "no live mid price" in found[0].message


def test_every_breach_at_once() -> None:
    eur = market("BTC", "EUR")
    request = OrderRequest("btceur", Side.BUY, OrderKind.LIMIT, D(1), D(60000))
    found = breaches(request, eur, mid=D(40000), preview=None, limits=LIVE)
    assert guards_of(found) == [Guard.MAX_NOTIONAL, Guard.PRICE_BAND]


# -- market and instant orders ---------------------------------------------------------------


def test_a_5_btc_market_sell_walking_over_300_bps_is_refused() -> None:
    book = thin_book()
    preview = preview_market(book, BTCUSD, Side.SELL, amount=D(5), fee_percent=D("0.4"))
    assert preview.slippage_vs_best_bps == D("325.00")
    request = OrderRequest("btcusd", Side.SELL, OrderKind.MARKET, D(5))
    roomy = replace(LIVE, max_notional={"USD": D(10**9)}, max_amount={})
    (found,) = breaches(request, BTCUSD, mid=D(40005), preview=preview, limits=roomy)
    assert (found.guard, found.key) == (Guard.MARKET_SLIPPAGE, "live.market_slippage_bps")
    assert "walked slippage 325 bps" in found.message
    assert "50 bps market-order protection" in found.message


def test_a_market_order_that_stays_at_the_touch_passes() -> None:
    preview = preview_market(thin_book(), BTCUSD, Side.SELL, amount=D("0.2"), fee_percent=D(0))
    request = OrderRequest("btcusd", Side.SELL, OrderKind.MARKET, D("0.2"))
    assert breaches(request, BTCUSD, mid=D(40005), preview=preview, limits=LIVE) == ()


def test_a_market_orders_notional_is_what_the_walk_fills() -> None:
    preview = preview_market(thin_book(), BTCUSD, Side.SELL, amount=D(2), fee_percent=D(0))
    # 40,000 + 39,500 = 79,500 USD; 2 BTC over 0.25; avg 39,750 is 62.5 bps under 40,000
    request = OrderRequest("btcusd", Side.SELL, OrderKind.MARKET, D(2))
    found = breaches(request, BTCUSD, mid=D(40005), preview=preview, limits=LIVE)
    assert guards_of(found) == [Guard.MAX_NOTIONAL, Guard.MAX_AMOUNT, Guard.MARKET_SLIPPAGE]
    assert "order value 79500 USD" in found[0].message


def test_a_market_order_without_a_walk_breaches_the_slippage_guard() -> None:
    request = OrderRequest("btcusd", Side.BUY, OrderKind.MARKET, D("0.01"))
    found = breaches(request, BTCUSD, mid=None, preview=None, limits=LIVE)
    assert guards_of(found) == [Guard.MARKET_SLIPPAGE]
    assert "slippage is unknown" in found[0].message


def test_an_instant_buy_is_valued_at_its_quote_amount_and_sized_by_its_walk() -> None:
    book = thin_book()
    request = OrderRequest("btcusd", Side.BUY, OrderKind.INSTANT, D(12_000))
    preview = preview_market(book, BTCUSD, Side.BUY, quote_amount=D(12_000), fee_percent=D(0))
    found = breaches(request, BTCUSD, mid=D(40005), preview=preview, limits=LIVE)
    # 12,000 USD > 10,000; walks only the 1 BTC ask (0.29992501 BTC > 0.25)
    assert guards_of(found) == [Guard.MAX_NOTIONAL, Guard.MAX_AMOUNT]


def test_the_defaults_are_the_same_careful_guards_on_every_venue() -> None:
    assert set(DEFAULT_LIMITS) == {"sim", "sandbox", "live"}
    for env, limits in DEFAULT_LIMITS.items():
        assert limits.env == env
        assert limits.confirm
        assert limits.market_slippage_bps == D(50)
        assert limits.price_band_bps == D(500)
        assert limits.max_notional["USD"] == D(10_000)


def test_the_mid_the_band_is_centred_on() -> None:
    assert mid_of(thin_book()) == D("40005.00")
    snapshot = BookSnapshot("btcusd", 1, ((D(99), D(1)),), ((D(101), D(1)),))
    assert mid_of(snapshot) == D(100)
    assert mid_of(BookSnapshot("btcusd", 1, ((D(99), D(1)),), ())) is None
    assert mid_of(None) is None


# -- properties at the boundary --------------------------------------------------------------

prices = st.decimals(min_value=D("0.01"), max_value=D(1_000_000), places=2)
bands = st.decimals(min_value=D("0.01"), max_value=D(2000), places=2)


@given(price=prices, mid=prices, band=bands)
def test_the_band_refuses_exactly_the_prices_beyond_it(price: D, mid: D, band: D) -> None:
    limits = replace(LIVE, max_notional={"USD": D(10**12)}, price_band_bps=band)
    request = OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, D("0.01"), price)
    found = breaches(request, BTCUSD, mid=mid, preview=None, limits=limits)
    outside = abs(price - mid) * 10_000 > band * mid  # exact, no division
    assert (Guard.PRICE_BAND in guards_of(found)) == outside


@given(
    amount=st.decimals(min_value=D("0.00000001"), max_value=D(1000), places=8),
    price=prices,
    cap=st.decimals(min_value=D(1), max_value=D(10**7), places=2),
)
def test_the_notional_refuses_exactly_the_orders_over_it(amount: D, price: D, cap: D) -> None:
    limits = replace(LIVE, max_notional={"USD": cap}, max_amount={})
    request = OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, amount, price)
    found = breaches(request, BTCUSD, mid=price, preview=None, limits=limits)
    assert guards_of(found) == ([Guard.MAX_NOTIONAL] if amount * price > cap else [])


@given(
    slip_cap=st.decimals(min_value=D("0.01"), max_value=D(1000), places=2),
    amount=st.decimals(min_value=D("0.01"), max_value=D(5), places=2),
)
def test_the_market_protection_refuses_exactly_the_walks_beyond_it(slip_cap: D, amount: D) -> None:
    limits = replace(
        LIVE, max_notional={"USD": D(10**9)}, max_amount={}, market_slippage_bps=slip_cap
    )
    preview = preview_market(thin_book(), BTCUSD, Side.SELL, amount=amount, fee_percent=D(0))
    request = OrderRequest("btcusd", Side.SELL, OrderKind.MARKET, amount)
    found = breaches(request, BTCUSD, mid=D(40005), preview=preview, limits=limits)
    assert preview.slippage_vs_best_bps is not None
    outside = preview.slippage_vs_best_bps > slip_cap
    assert guards_of(found) == ([Guard.MARKET_SLIPPAGE] if outside else [])


@given(price=prices, mid=prices)
def test_deviation_never_rounds_into_the_band(price: D, mid: D) -> None:
    away = deviation_bps(price, mid)
    assert away * mid >= abs(price - mid) * 10_000
    assert away >= 0
