"""The blocking ``ccxt.bitstamp`` against the simulator, only the base URL changed (ref. 9.1).

The scenarios are those of ``test_ccxt_async.py``, collected here a second time: pytest
resolves their ``make_client`` fixture in this module, which builds the synchronous class.
Its calls run in a worker thread (``asyncio.to_thread``) while the simulator serves on the
test's event loop; its ``requests`` session is closed at teardown.
"""

from __future__ import annotations

import ccxt
import ccxt.async_support
import pytest

from . import test_ccxt_async as scenarios
from .conftest import Ccxt, ClientPool


@pytest.fixture
def make_client(make_sync_client: ClientPool) -> ClientPool:
    return make_sync_client


async def test_the_client_is_the_blocking_class_run_in_a_thread(client: Ccxt) -> None:
    assert isinstance(client.exchange, ccxt.bitstamp)
    assert not isinstance(client.exchange, ccxt.async_support.bitstamp)
    assert client.threaded
    ticker = await client.fetch_ticker("ETH/USD")
    assert ticker["symbol"] == "ETH/USD"


def test_every_scenario_runs_here_too() -> None:
    shared = {name for name in vars(scenarios) if name.startswith("test_")}
    assert shared <= set(globals()), sorted(shared - set(globals()))


test_load_markets_lists_the_simulator_markets_with_precision_and_minimums = (
    scenarios.test_load_markets_lists_the_simulator_markets_with_precision_and_minimums
)
test_fetch_ticker_matches_the_book_and_the_last_trade = (
    scenarios.test_fetch_ticker_matches_the_book_and_the_last_trade
)
test_fetch_order_book_is_the_full_book = scenarios.test_fetch_order_book_is_the_full_book
test_fetch_trades_contains_our_fills = scenarios.test_fetch_trades_contains_our_fills
test_fetch_ohlcv_candle_holds_our_trade = scenarios.test_fetch_ohlcv_candle_holds_our_trade
test_fetch_balance_shows_the_demo_funds_and_reservations = (
    scenarios.test_fetch_balance_shows_the_demo_funds_and_reservations
)
test_fetch_trading_fee_is_the_account_fee_in_percent = (
    scenarios.test_fetch_trading_fee_is_the_account_fee_in_percent
)
test_limit_order_with_client_order_id_lives_and_is_cancelled = (
    scenarios.test_limit_order_with_client_order_id_lives_and_is_cancelled
)
test_market_order_fills_and_reports_its_trades = (
    scenarios.test_market_order_fills_and_reports_its_trades
)
test_cancel_all_orders_per_market_then_everywhere = (
    scenarios.test_cancel_all_orders_per_market_then_everywhere
)
test_fetch_my_trades_lists_both_sides_of_our_trading = (
    scenarios.test_fetch_my_trades_lists_both_sides_of_our_trading
)
test_wrong_secret_or_unknown_key_is_an_authentication_error = (
    scenarios.test_wrong_secret_or_unknown_key_is_an_authentication_error
)
test_replayed_nonce_is_an_invalid_nonce = scenarios.test_replayed_nonce_is_an_invalid_nonce
test_order_below_the_minimum_is_an_invalid_order = (
    scenarios.test_order_below_the_minimum_is_an_invalid_order
)
test_other_refusals_map_to_ccxt_errors = scenarios.test_other_refusals_map_to_ccxt_errors
test_fetch_tickers_covers_every_market = scenarios.test_fetch_tickers_covers_every_market
test_edit_order_replaces_it_through_replace_order = (
    scenarios.test_edit_order_replaces_it_through_replace_order
)
test_the_guard_refuses_any_host_but_the_simulator = (
    scenarios.test_the_guard_refuses_any_host_but_the_simulator
)
