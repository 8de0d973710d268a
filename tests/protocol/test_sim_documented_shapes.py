"""The simulator's REST bodies for endpoints no recording covers, against the documented shape.

No real capture of these replies is in the fixtures, so each is compared with the shape the
reference documents (``/work/shared/reference/bitstamp-api.md``, section in each row's name),
written out with placeholder values of the documented types: only keys and types count.
Deliberate differences are allowed per row, with the reason. Padding of numbers (a value,
not a type) is checked at the end; it needs the market's decimals passed in routes.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio

from workstation.domain.account import Balance, UserTransaction
from workstation.domain.common import Side
from workstation.domain.order_vocabulary import Fill
from workstation.domain.orders import OpenOrder, OrderAck, OrderState, OrderStatus
from workstation.sim.wire.account import encode_account_balances, encode_user_transactions
from workstation.sim.wire.orders import encode_open_orders, encode_order_ack, encode_order_status

from .shapes import assert_same, shape, union
from .sim_session import Reply, rest_session, small_sim


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sim_rest() -> AsyncIterator[dict[str, Reply]]:
    async with small_sim() as sim:
        yield await rest_session(sim)


# --- documented shapes: endpoints no recording covers ------------------------------------
# Placeholder values of the types the reference documents; only keys and types matter.

_S = "1.00"  # any string number
_TICKER = dict.fromkeys(("timestamp", "open", "high", "low", "last", "volume", "vwap"), _S)
_TICKER |= {"bid": _S, "ask": _S, "side": "0", "open_24": _S, "percent_change_24": "1.58"}
_BOOK_2 = {
    "timestamp": "1",
    "microtimestamp": "1",
    "bids": [[_S, _S, "1"]],
    "asks": [[_S, _S, "1"]],
}
_CANDLE = dict.fromkeys(("timestamp", "open", "high", "low", "close", "volume"), _S)
_MARKET = {
    "name": "BTC/USD", "market_symbol": "btcusd", "base_currency": "BTC", "base_decimals": 8,
    "counter_currency": "USD", "counter_decimals": 2, "minimum_order_value": "10.00",
    "trading": "Enabled", "instant_order_counter_decimals": 2,
    "instant_and_market_orders": "Enabled", "description": "Bitcoin / U.S. dollar",
    "market_type": "SPOT",
}  # fmt: skip
_BALANCE = {"currency": "usdt", "total": "7.00000", "available": "7.00000", "reserved": "0.00000"}
_FEE = {"currency_pair": "btcusd", "market": "btcusd", "fees": {"maker": "0.3", "taker": "0.4"}}
_ACK = {
    "id": "1234123412341234", "market": "BTC/USD", "datetime": "2022-01-31 14:43:15.796000",
    "type": "0", "price": "2211.00", "amount": "45.00000000", "client_order_id": "123",
}  # fmt: skip
_OPEN = {
    "id": "1", "datetime": "2022-01-31 14:43:15", "type": "0", "price": _S, "amount": _S,
    "amount_at_create": _S, "currency_pair": "BTC/USD", "market": "BTC/USD",
    "limit_price": _S, "client_order_id": "c",
}  # fmt: skip
_STATUS_TX = {
    "tid": 209895701, "price": "4451.25000000", "<base>": "0.00500000", "<quote>": "22.25625000",
    "fee": "0.11128", "datetime": "2021-11-25 12:59:59.322000", "type": 2,
}  # fmt: skip
_STATUS = {
    "id": 1458532827766784, "datetime": "2022-01-31 14:43:15", "type": "0", "status": "Open",
    "market": "BTC/USD", "amount_remaining": "0.00000000", "client_order_id": "c",
    "transactions": [_STATUS_TX],
}  # fmt: skip
_CANCEL = {"id": 1, "amount": 0.02035278, "price": 2100.45, "type": 0, "market": "BTC/USD"}
_ERROR = {"status": "error", "reason": {"__all__": ["Trading is unavailable."]}}

_OPTIONAL_OPEN = {"$[].limit_price": "only when set (reference 4.4); the session sets none"}
_NEWER_CODE = {"$.response_code": "newer error bodies add it (reference 6)"}

#: (what, replies from the session, documented shape, allowances). Sections of the reference.
DOCUMENTED: list[tuple[str, tuple[str, ...], Any, dict[str, Any]]] = [
    ("3.1 ticker, 2024 keys", ("ticker",), _TICKER, {}),
    ("3.1 all tickers", ("tickers",), [_TICKER | {"pair": "BTC/USD", "market": "BTC/USD"}], {}),
    ("3.3 order_book group=2", ("book_2",), _BOOK_2, {}),
    (
        "3.4 transactions",
        ("transactions",),
        [{"date": "1", "tid": "1", "price": _S, "amount": _S, "type": "0"}],
        {},
    ),  # fmt: skip
    (
        "3.5 ohlc",
        ("ohlc",),
        {"data": {"pair": "BTC/USD", "market": "BTC/USD", "ohlc": [_CANDLE]}},
        {},
    ),  # fmt: skip
    ("3.6 markets", ("markets",), [_MARKET], {}),
    ("4.1 account_balances", ("balances",), [_BALANCE], {}),
    ("4.1 account_balances/{currency}", ("balance_btc",), _BALANCE, {}),
    ("4.2 fees/trading", ("fees",), [_FEE], {}),
    ("4.2 fees/trading/{market}", ("fees_market",), _FEE, {}),
    ("4.3 buy/sell", ("sell", "buy", "buy_2", "buy_market", "buy_market_2"), _ACK, {}),
    ("4.4 open_orders/all", ("open_orders_all",), [_OPEN], {"missing_ok": _OPTIONAL_OPEN}),
    (
        "4.4 open_orders/{market}",
        ("open_orders_market",),
        [{k: v for k, v in _OPEN.items() if k != "currency_pair"}],
        {"missing_ok": _OPTIONAL_OPEN},
    ),  # fmt: skip
    ("4.5 order_status", ("status_open", "status_done", "status_taker"), _STATUS, {}),
    ("4.6 cancel_order", ("cancel",), _CANCEL | {"status": "Canceled"}, {}),
    (
        "4.6 cancel_all_orders",
        ("cancel_all",),
        {"success": True, "canceled": [_CANCEL | {"currency_pair": "BTC/USD"}]},
        {
            "extra_ok": {
                "$.canceled[].status": "cancel_order's status (added 2025-10-23, "
                "reference 4.6); the cancel_all item is documented without it"
            }
        },
    ),  # fmt: skip
    (
        "4.8 websockets_token",
        ("websockets_token",),
        {"token": "a" * 32, "valid_sec": 60, "user_id": 4848701},
        {},
    ),  # fmt: skip
    (
        "6 auth error",
        ("forged",),
        {"status": "error", "reason": "Invalid signature", "code": "API0005"},
        {},
    ),  # fmt: skip
    ("6 order refused", ("reject_band",), _ERROR | {"response_code": "403.004"}, {}),
    (
        "6 field refused",
        ("reject_places",),
        _ERROR | {"reason": {"amount": ["x"], "__all__": [""]}},
        {"extra_ok": _NEWER_CODE},
    ),  # fmt: skip
    (
        "6 order not found",
        ("cancel_again",),
        {"status": "error", "reason": "Order not found", "response_code": "404.002"},
        {},
    ),  # fmt: skip
]


def _status_key(path: str, key: str, value: Any) -> str:
    """order_status transactions key amounts by currency: ``btc``/``usd`` on btcusd."""
    if path == "$.transactions[]":
        return {"btc": "<base>", "usd": "<quote>"}.get(key, key)
    return key


@pytest.mark.parametrize(
    ("names", "documented", "allowed"),
    [pytest.param(names, doc, allowed, id=what) for what, names, doc, allowed in DOCUMENTED],
)
def test_documented_shapes(
    sim_rest: dict[str, Reply], names: tuple[str, ...], documented: Any, allowed: dict[str, Any]
) -> None:
    replies = [sim_rest[name] for name in names]
    assert {r.headers["content-type"] for r in replies} == {"application/json"}
    ours = union(shape(r.body, _status_key) for r in replies)
    assert_same(ours, shape(documented), **allowed)


def test_error_statuses_and_codes(sim_rest: dict[str, Reply]) -> None:
    """Auth failures are HTTP 403 with an API00xx code; refusals are HTTP 200 (reference 6)."""
    forged = sim_rest["forged"]
    assert (forged.status, forged.body["code"]) == (403, "API0005")
    assert "x-server-auth-signature" not in forged.headers
    assert sim_rest["reject_band"].body["reason"]["__all__"] == [
        "Price is more than 20% below market price."
    ]
    assert set(sim_rest["reject_places"].body["reason"]) == {"amount", "__all__"}
    assert {sim_rest[n].status for n in ("reject_band", "reject_places", "cancel_again")} == {200}


# --- padding: Bitstamp writes amounts and prices with the market's decimals (reference 2) --


def _places(text: str) -> int:
    return len(text.partition(".")[2])


def test_order_replies_pad_amounts_and_prices(sim_rest: dict[str, Reply]) -> None:
    for name in ("sell", "buy", "buy_2", "buy_market", "buy_market_2"):
        body = sim_rest[name].body
        assert (_places(body["amount"]), _places(body["price"])) == (8, 2), (name, body)


def test_open_orders_pad_amounts_and_prices(sim_rest: dict[str, Reply]) -> None:
    rows = sim_rest["open_orders_all"].body + sim_rest["open_orders_market"].body
    assert len(rows) >= 4
    for row in rows:
        places = [_places(row[k]) for k in ("amount", "amount_at_create", "price")]
        assert places == [8, 8, 2], row


def test_order_status_pads_amounts_and_prices(sim_rest: dict[str, Reply]) -> None:
    done = sim_rest["status_done"].body
    assert done["transactions"], done
    for name in ("status_open", "status_done", "status_taker"):
        assert _places(sim_rest[name].body["amount_remaining"]) == 8, sim_rest[name].body
    for tx in done["transactions"]:
        assert [_places(tx[k]) for k in ("price", "btc", "usd")] == [8, 8, 8], tx


def test_the_session_filled_and_rested_what_the_padding_tests_read(
    sim_rest: dict[str, Reply],
) -> None:
    done = sim_rest["status_done"].body
    assert done["status"] == "Finished", done
    assert done["transactions"], done
    assert sim_rest["status_open"].body["status"] == "Open"
    assert len(sim_rest["open_orders_all"].body) == 2


D = Decimal
T = dt.datetime(2026, 11, 25, 9, 16, 49, tzinfo=dt.UTC)


def test_the_encoders_pad_once_given_the_decimals() -> None:
    """The encoders pad to the market's decimals and never round."""
    ack = encode_order_ack(
        OrderAck(1, "btcusd", T, Side.BUY, D(60000), D("0.01")), base_decimals=8, quote_decimals=2
    )
    assert (ack["price"], ack["amount"]) == ("60000.00", "0.01000000")
    orders = [
        OpenOrder(1, T, Side.SELL, D("67100"), D("0.006"), "btcusd", D("0.01")),
        OpenOrder(2, T, Side.BUY, D("0.05"), D("1"), "ethbtc"),  # not in decimals: as is
    ]
    rows = encode_open_orders(orders, decimals={"btcusd": (8, 2)})
    assert [rows[0][k] for k in ("price", "amount", "amount_at_create")] == [
        "67100.00", "0.00600000", "0.01000000",
    ]  # fmt: skip
    assert (rows[1]["price"], rows[1]["amount"]) == ("0.05", "1")
    tx = Fill(7, D("67002.68"), D("0.01112612"), D("745.47986"), D("2.98192"), T)
    status = OrderStatus(1, T, Side.BUY, OrderState.FINISHED, "btcusd", D(0), None, (tx,))
    body = encode_order_status(status, base_decimals=8, quote_decimals=2)
    assert body["amount_remaining"] == "0.00000000"
    assert {k: body["transactions"][0][k] for k in ("price", "btc", "usd", "fee")} == {
        "price": "67002.68000000", "btc": "0.01112612", "usd": "745.47986000", "fee": "2.98192",
    }  # fmt: skip
    balances = [
        Balance("btc", D(5), D("4.99"), D("0.01")),
        Balance("usd", D("9.12345"), D(9), D(0)),  # a fee booked to 5 places: not rounded
    ]
    assert encode_account_balances(balances, {"btc": 8, "usd": 2}) == [
        {"currency": "btc", "total": "5.00000000", "available": "4.99000000",
         "reserved": "0.01000000"},
        {"currency": "usd", "total": "9.12345", "available": "9.00", "reserved": "0.00"},
    ]  # fmt: skip
    trade = UserTransaction(3, T, 2, D("0.27"), {"btc": D("-0.001"), "usd": D("67")}, D(67000))
    (row,) = encode_user_transactions([trade], ["eur"], {"btc": 8, "usd": 2})
    assert (row["btc"], row["usd"], row["eur"]) == ("-0.00100000", "67.00", 0)
