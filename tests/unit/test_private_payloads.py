"""Private payload codecs (account, orders, order_frames; the readers in workstation.bitstamp,
the writers in workstation.sim.wire):
documented shapes, mixed JSON types, wire errors, and encode -> JSON bytes -> parse round
trips for every encoder.

Shapes follow reference sections 4.1-4.8 and 7.5; the recorded real payloads are exercised in
tests/protocol/test_private_fixtures.py.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workstation.bitstamp import account
from workstation.bitstamp import order_frames as frames
from workstation.bitstamp import orders as co
from workstation.bitstamp.errors import ProtocolError
from workstation.bitstamp.fields import PayloadError, market_name
from workstation.domain.account import Balance, TradingFee, UserTransaction, WebsocketToken
from workstation.domain.common import Side
from workstation.domain.order_vocabulary import Fill
from workstation.domain.orders import (
    CancelAllResult,
    CancelResult,
    MyTrade,
    OpenOrder,
    OrderAck,
    OrderEvent,
    OrderEventKind,
    OrderState,
    OrderStatus,
    ReplaceResult,
)
from workstation.sim.wire.account import (
    encode_account_balances,
    encode_legacy_balance,
    encode_trading_fees,
    encode_user_transactions,
    encode_websockets_token,
)
from workstation.sim.wire.fields import dumps
from workstation.sim.wire.order_frames import encode_my_trade_frame, encode_order_event_frame
from workstation.sim.wire.orders import (
    encode_cancel,
    encode_cancel_all,
    encode_open_orders,
    encode_order_ack,
    encode_order_status,
    encode_replace,
)

D = Decimal
T0 = dt.datetime(2022, 1, 31, 14, 43, 15, tzinfo=dt.UTC)
T1 = dt.datetime(2021, 11, 25, 12, 59, 59, 322000, tzinfo=dt.UTC)

# Documented replies (reference 4.3, 4.5) as dicts, so a test can change one field.
ACK = {
    "id": "1234123412341234",
    "market": "BTC/USD",
    "datetime": "2022-01-31 14:43:15.796000",
    "type": "0",
    "price": "2211.00",
    "amount": "45.00000000",
    "client_order_id": "123",
}
TX = {
    "tid": 209895701,
    "price": "4451.25000000",
    "btc": "0.00500000",
    "usd": "22.25625000",
    "fee": "0.11128",
    "datetime": "2021-11-25 12:59:59.322000",
    "type": 2,
}
STATUS = {
    "id": 1458532827766784,
    "datetime": "2022-01-31 14:43:15",
    "type": "0",
    "status": "Finished",
    "market": "BTC/USD",
    "amount_remaining": "0.00000000",
    "client_order_id": "abc",
    "transactions": [TX],
}
EVENT = b'{"id": 1, "order_type": 0, "microtimestamp": "1", "amount_str": "1", "price_str": "1"}'


def _body(base: dict[str, Any], **changes: Any) -> bytes:
    """``base`` as JSON with ``changes`` applied; a change to None removes the key."""
    merged = {**base, **changes}
    return json.dumps({k: v for k, v in merged.items() if v is not None}).encode()


def _frame_data(frame: str) -> tuple[str, str, bytes]:
    decoded = json.loads(frame)
    assert list(decoded) == ["data", "channel", "event"]
    return decoded["event"], decoded["channel"], json.dumps(decoded["data"]).encode()


# --- documented shapes -------------------------------------------------------------------


def test_order_ack_from_the_documented_reply() -> None:
    ack = co.parse_order_ack(_body(ACK))
    assert ack == OrderAck(
        1234123412341234, "btcusd", T0.replace(microsecond=796000), Side.BUY, D(2211), D(45), "123"
    )
    assert ack.datetime.tzinfo is dt.UTC


def test_order_ack_tolerates_int_id_and_type_and_the_old_currency_pair_key() -> None:
    ack = co.parse_order_ack(
        _body(ACK, id=7, type=1, market=None, currency_pair="ETH/BTC", client_order_id=None)
    )
    assert (ack.order_id, ack.market, ack.side, ack.client_order_id) == (
        7,
        "ethbtc",
        Side.SELL,
        None,
    )


def test_cancel_reply_reads_json_numbers_exactly() -> None:
    body = (
        b'{"id": 1453282316578816, "amount": 0.02035278, "price": 2100.45, "type": 0,'
        b' "market": "BTC/USD", "status": "Canceled"}'
    )
    assert co.parse_cancel(body) == CancelResult(
        1453282316578816, D("0.02035278"), D("2100.45"), Side.BUY, "btcusd", "Canceled"
    )
    # Through float this would read 1234567890.1234567165374755859375.
    exact = co.parse_cancel(b'{"id": 1, "amount": 1234567890.123456789, "price": 1, "type": 1}')
    assert exact.amount == D("1234567890.123456789")
    assert (exact.market, exact.status) == (None, None)


def test_order_status_keys_transaction_amounts_by_the_markets_currencies() -> None:
    status = co.parse_order_status(_body(STATUS))
    assert status.state is OrderState.FINISHED
    assert (status.market, status.side, status.amount_remaining) == ("btcusd", Side.BUY, D(0))
    assert status.transactions == (
        Fill(209895701, D("4451.25"), D("0.005"), D("22.25625"), D("0.11128"), T1, 2),
    )
    assert status.filled == D("0.005")


def test_order_status_without_transactions_and_in_queue() -> None:
    body = _body(STATUS, status="In Queue", transactions=None, amount_remaining=None, type=1)
    status = co.parse_order_status(body)
    assert (status.state, status.side, status.transactions) == (OrderState.OPEN, Side.SELL, ())
    assert status.amount_remaining is None


def test_order_states() -> None:
    assert OrderState.from_wire("Cancel pending") is OrderState.CANCEL_PENDING
    assert OrderState.from_wire("Expired").is_final
    assert not OrderState.from_wire("Open").is_final
    with pytest.raises(ValueError, match="unknown order status"):
        OrderState.from_wire("open")


def test_balances_array_single_object_and_fees() -> None:
    row = b'{"currency": "USDT", "total": "7.00000", "available": "5.0", "reserved": "2.00000"}'
    expected = [Balance("usdt", D(7), D(5), D(2))]
    assert account.parse_account_balances(b"[" + row + b"]") == expected
    assert account.parse_account_balances(row) == expected
    fee = (
        b'{"currency_pair": "btcusd", "market": "btcusd", "fees": {"maker": "0.3", "taker": "0.4"}}'
    )
    assert account.parse_trading_fees(fee) == [TradingFee("btcusd", D("0.3"), D("0.4"))]
    both = b"[" + fee + b"," + fee.replace(b"btcusd", b"etheur") + b"]"
    assert [f.market for f in account.parse_trading_fees(both)] == ["btcusd", "etheur"]


def test_websockets_token_parses_and_never_shows_the_token() -> None:
    body = b'{"token": "s3cr3tT0k3nABCDEFGHIJKLMNOPQRSTUV", "valid_sec": 60, "user_id": 4848701}'
    token = account.parse_websockets_token(body)
    assert token == WebsocketToken("s3cr3tT0k3nABCDEFGHIJKLMNOPQRSTUV", 60, 4848701)
    assert "s3cr3t" not in repr(token)
    assert "4848701" in repr(token)


def test_user_transaction_amounts_are_read_only() -> None:
    amounts = {"btc": D(1)}
    tx = UserTransaction(1, T0, 2, D(0), amounts)
    amounts["btc"] = D(5)  # the caller's dict is not shared
    assert tx.amounts == {"btc": D(1)}
    with pytest.raises(TypeError):
        tx.amounts["btc"] = D(2)  # type: ignore[index]


def test_cancel_all_accepts_the_v1_bare_true() -> None:
    assert co.parse_cancel_all(b"true") == CancelAllResult((), True)


# --- wire errors -------------------------------------------------------------------------

_TX_NO_BTC = {k: v for k, v in TX.items() if k != "btc"}


@pytest.mark.parametrize(
    ("parse", "body", "message"),
    [
        (co.parse_cancel, b'{"id": 1, "price": 1, "type": 0}', "missing required field `amount`"),
        (co.parse_cancel, b'{"id": 1.5, "amount": 1, "price": 1, "type": 0}', "`int | str`"),
        (co.parse_cancel, b'{"id": 1, "amount": -1, "price": 1, "type": 0}', "non-negative"),
        (co.parse_cancel, b'{"id": 1, "amount": 1, "price": 1, "type": 2}', "not a side"),
        (co.parse_order_ack, _body(ACK, price="NaN"), "price must be a number"),
        (co.parse_order_ack, _body(ACK, price="1e5"), "exponent"),
        (co.parse_order_ack, _body(ACK, amount=" 1"), "spaces"),
        (co.parse_order_ack, _body(ACK, id="x1"), "id must be an integer"),
        (co.parse_order_ack, _body(ACK, datetime="31.01.2022"), "datetime"),
        (co.parse_order_ack, _body(ACK, market=None), "market is missing"),
        (co.parse_open_orders, b'{"status": "error", "reason": "Invalid nonce"}', "`array`"),
        (co.parse_order_status, _body(STATUS, status="Gone"), "unknown order status"),
        (co.parse_order_status, _body(STATUS, transactions=[_TX_NO_BTC]), "btc is missing"),
        (co.parse_order_status, _body(STATUS, market="BTCUSD"), "'BTC/USD'"),
        (account.parse_user_transactions, b'[{"id": 1, "type": "2", "fee": "0"}]', "datetime is"),
        (
            account.parse_legacy_balance,
            b'{"btc_available": "1", "btc_balance": "1"}',
            "btc_reserved",
        ),
        (account.parse_websockets_token, b'{"token": "", "valid_sec": 60, "user_id": 1}', "empty"),
        (account.parse_account_balances, b'[{"currency": "btc", "total": "1"', "not valid JSON"),
    ],
)
def test_wire_errors_raise_payload_error(parse: Any, body: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=message) as info:
        parse(body)
    assert isinstance(info.value, ProtocolError)  # in the error tree, not a bare ValueError


def test_user_transaction_with_a_bad_amount_names_the_currency() -> None:
    body = (
        b'[{"id": 1, "datetime": "2022-01-31 14:43:15", "type": "2", "fee": "0", "btc": "1.2.3"}]'
    )
    with pytest.raises(PayloadError, match="user_transactions: btc has more than one"):
        account.parse_user_transactions(body)


def test_order_event_rejects_unknown_events_and_foreign_channels() -> None:
    with pytest.raises(PayloadError, match="not an order event"):
        frames.parse_order_event("order_replaced", "live_orders_btcusd", EVENT)
    with pytest.raises(PayloadError, match="not an orders channel"):
        frames.parse_order_event("order_created", "live_trades_btcusd", EVENT)
    with pytest.raises(PayloadError, match="not a my_trades channel"):
        frames.parse_my_trade("private-my_trades_btcusd", EVENT)  # no user id
    with pytest.raises(PayloadError, match="price is missing"):
        frames.parse_order_event(
            "order_created", "live_orders_btcusd", EVENT.replace(b"price_", b"x")
        )


def test_order_event_market_from_public_private_and_perpetual_channels() -> None:
    data = b'{"id": 1, "order_type": 1, "microtimestamp": "17", "amount": 0.5, "price": 100}'
    assert frames.parse_order_event("order_created", "live_orders_ethusd", data).market == "ethusd"
    event = frames.parse_order_event("order_changed", "private-my_orders_btcusd-perp-42", data)
    kind = OrderEventKind.CHANGED
    assert event == OrderEvent(kind, "btcusd-perp", 1, Side.SELL, D(100), D("0.5"), 17)


def test_market_name() -> None:
    assert market_name("btcusd") == "BTC/USD"
    assert market_name("btcusdt") == "BTC/USDT"
    assert market_name("usdcusd") == "USDC/USD"
    assert market_name("ethbtc") == "ETH/BTC"
    assert market_name("btcusd-perp") == "BTC/USD-PERP"
    assert market_name("abcxyz", {"abcxyz": "ABC/XYZ"}) == "ABC/XYZ"
    with pytest.raises(ValueError, match="pass names"):
        market_name("abcxyz")


# --- round trips: encode -> JSON bytes -> parse ------------------------------------------


def test_balances_round_trip_as_strings() -> None:
    balances = [
        Balance("btc", D("1.50000000"), D("1.00000000"), D("0.50000000")),
        Balance("usd", D("10.00"), D("10.00"), D("0.00")),
    ]
    text = dumps(encode_account_balances(balances))
    assert b'"total":"1.50000000"' in text
    assert account.parse_account_balances(text) == balances
    legacy = dumps(encode_legacy_balance(balances))
    assert b'"btc_balance":"1.50000000"' in legacy
    assert account.parse_legacy_balance(legacy) == balances


def test_fees_and_token_round_trip() -> None:
    fees = [TradingFee("btcusd", D("0.30000"), D("0.40000"))]
    assert account.parse_trading_fees(dumps(encode_trading_fees(fees))) == fees
    token = WebsocketToken("a" * 32, 60, 4848701)
    text = dumps(encode_websockets_token(token))
    assert json.loads(text) == {"token": "a" * 32, "valid_sec": 60, "user_id": 4848701}
    assert account.parse_websockets_token(text) == token


def test_user_transactions_round_trip_with_mixed_types() -> None:
    amounts = {"xrp": D("1526.87974528"), "eur": D("-250.00000")}
    trade = UserTransaction(2, T1, 2, D("0.50"), amounts, D("0.16332"), "xrpeur", 1)
    deposit = UserTransaction(1, T0, 0, D("0.00"), {"eur": D("250000.00")})
    text = dumps(encode_user_transactions([trade, deposit], currencies=["usd", "btc"]))
    rows = json.loads(text)
    assert rows[0] == {
        "id": 2,
        "datetime": "2021-11-25 12:59:59.322000",
        "type": "2",
        "fee": "0.50",
        "usd": 0,
        "btc": 0,
        "xrp": "1526.87974528",
        "eur": "-250.00000",
        "xrp_eur": 0.16332,
        "order_id": 1,
    }
    assert b'"xrp_eur":0.16332' in text
    assert "order_id" not in rows[1]
    assert rows[1]["datetime"] == "2022-01-31 14:43:15.000000"
    assert account.parse_user_transactions(text) == [trade, deposit]


def test_order_ack_and_open_orders_round_trip_as_strings() -> None:
    ack = OrderAck(12, "btcusd", T1, Side.SELL, D("2211.00"), D("45.00000000"), "cid-1")
    text = dumps(encode_order_ack(ack))
    assert json.loads(text) == {**ACK, "id": "12", "datetime": "2021-11-25 12:59:59.322000"} | {
        "type": "1",
        "client_order_id": "cid-1",
    }
    assert co.parse_order_ack(text) == ack
    orders = [
        OpenOrder(11, T0, Side.BUY, D("2100.45"), D("0.5"), "btcusd", D("1.0"), D("2200.00"), "c"),
        OpenOrder(12, T0, Side.SELL, D("0.07"), D("3"), "ethbtc"),
    ]
    text = dumps(encode_open_orders(orders))
    first = json.loads(text)[0]
    assert all(isinstance(value, str) for value in first.values())
    assert first["price"] == "2100.45"
    assert first["currency_pair"] == first["market"] == "BTC/USD"
    assert co.parse_open_orders(text) == orders
    per_market = json.loads(dumps(encode_open_orders(orders[:1], all_markets=False)))
    assert "currency_pair" not in per_market[0]


def test_order_status_round_trip() -> None:
    tx = Fill(209895701, D("4451.25"), D("0.00500000"), D("22.25625000"), D("0.11128"), T1)
    status = OrderStatus(1, T0, Side.BUY, OrderState.OPEN, "btcusd", D("0.1"), "x", (tx,))
    text = dumps(encode_order_status(status))
    decoded = json.loads(text)
    assert (decoded["id"], decoded["type"], decoded["status"]) == (1, "0", "Open")
    assert decoded["transactions"] == [{**TX, "price": "4451.25"}]
    assert co.parse_order_status(text) == status


def test_cancel_replies_use_json_numbers_and_round_trip() -> None:
    result = CancelResult(
        1453282316578816, D("0.02035278"), D("2100.450"), Side.BUY, "btcusd", "Canceled"
    )
    text = dumps(encode_cancel(result))
    assert text == (
        b'{"id":1453282316578816,"amount":0.02035278,"price":2100.45,"type":0,'
        b'"market":"BTC/USD","status":"Canceled"}'
    )
    assert co.parse_cancel(text) == result
    everything = CancelAllResult((result, CancelResult(2, D(1), D(3), Side.SELL, "ethusd")), True)
    text = dumps(encode_cancel_all(everything))
    assert json.loads(text)["canceled"][1] == {
        "id": 2,
        "amount": 1,
        "price": 3,
        "type": 1,
        "currency_pair": "ETH/USD",
        "market": "ETH/USD",
    }
    assert co.parse_cancel_all(text) == everything


def test_replace_round_trip() -> None:
    full = ReplaceResult(20, 19, "old", "btcusd", Side.BUY, D("0.5"), D("100.10"), T1, "Open")
    assert co.parse_replace(dumps(encode_replace(full))) == full
    assert json.loads(dumps(encode_replace(ReplaceResult(21)))) == {"order_id": 21}
    assert co.parse_replace(dumps(encode_replace(ReplaceResult(21)))) == ReplaceResult(21)


def test_order_event_frames_round_trip() -> None:
    event = OrderEvent(
        OrderEventKind.CHANGED, "btcusd", 1658864794234880, Side.BUY, D("25862"), D("0.00000001"),
        1693831262313000, D("0.00038666"), D("0.00038667"), "test_market_buy", 2,
    )  # fmt: skip
    private = encode_order_event_frame("order_changed", "private-my_orders_btcusd-1", event, 8, 2)
    assert private == (
        '{"data":{"id":1658864794234880,"id_str":"1658864794234880","order_type":0,'
        '"order_subtype":2,"datetime":"1693831262","microtimestamp":"1693831262313000",'
        '"amount":1E-8,"amount_str":"0.00000001","amount_traded":"0.00038666",'
        '"amount_at_create":"0.00038667","price":25862,"price_str":"25862.00",'
        '"is_liquidation":false,"trade_account_id":0,"client_order_id":"test_market_buy"},'
        '"channel":"private-my_orders_btcusd-1","event":"order_changed"}'
    )
    assert frames.parse_order_event(*_frame_data(private)) == event
    public = encode_order_event_frame(OrderEventKind.CHANGED, "live_orders_btcusd", event, 8, 2)
    assert "client_order_id" not in public
    assert "trade_account_id" not in public
    assert frames.parse_order_event(*_frame_data(public)) == replace(event, client_order_id=None)


def test_my_trade_frame_round_trip() -> None:
    trade = MyTrade(
        635698396, 2050558851342339, "ethusd", Side.BUY, D("2468.04"), D("0.005"), D("0.04936"),
        1789459694223000, "c1",
    )  # fmt: skip
    frame = encode_my_trade_frame("private-my_trades_ethusd-4848701", trade, 6, 2)
    assert json.loads(frame)["data"] == {
        "id": 635698396,
        "order_id": "2050558851342339",
        "client_order_id": "c1",
        "amount": "0.005000",
        "price": "2468.04",
        "fee": "0.04936",
        "side": "buy",
        "microtimestamp": "1789459694223000",
        "trade_account_id": 0,
    }
    event, channel, data = _frame_data(frame)
    assert event == "trade"
    assert frames.parse_my_trade(channel, data) == trade


_AMOUNTS = st.decimals(min_value=D("0.00000001"), max_value=D("99999999"), places=8)
_PRICES = st.decimals(min_value=D("0.01"), max_value=D("9999999"), places=2)


@given(amount=_AMOUNTS, price=_PRICES, order_id=st.integers(1, 2**53))
def test_cancel_numbers_survive_the_wire_exactly(
    amount: Decimal, price: Decimal, order_id: int
) -> None:
    result = CancelResult(order_id, amount, price, Side.SELL, "btcusd", "Canceled")
    assert co.parse_cancel(dumps(encode_cancel(result))) == result


@given(amount=_AMOUNTS, traded=_AMOUNTS, price=_PRICES, stamp=st.integers(0, 2**62))
def test_order_event_amounts_survive_the_wire_exactly(
    amount: Decimal, traded: Decimal, price: Decimal, stamp: int
) -> None:
    event = OrderEvent(OrderEventKind.CREATED, "btcusd", 1, Side.BUY, price, amount, stamp, traded)
    frame = encode_order_event_frame(event.kind, "live_orders_btcusd", event, 8, 2)
    assert frames.parse_order_event(*_frame_data(frame)) == event


@pytest.mark.parametrize(
    "channel",
    [
        "private-my_orders_btcus--4123",  # found by the fuzz count: market "btcus-"
        "private-my_orders_-btcusd-4123",
        "live_orders_btcusd-",
        "live_orders_btc--usd",
        "private-my_orders_btcusd-perp-x-42",
    ],
)
def test_an_orders_channel_whose_market_is_not_a_symbol_is_refused(channel: str) -> None:
    """The market comes from the channel, and goes on into request paths (a placed-elsewhere
    order is looked up with ``open_orders/{market}``): a name that is not a Bitstamp symbol is
    refused with the frame, not carried on to fail later as a bare ValueError."""
    data = b'{"id": 1, "order_type": 1, "microtimestamp": "17", "amount": 0.5, "price": 100}'
    with pytest.raises(PayloadError, match="not an orders channel"):
        frames.parse_order_event("order_created", channel, data)


def test_a_my_trades_channel_whose_market_is_not_a_symbol_is_refused() -> None:
    with pytest.raises(PayloadError, match="not a my_trades channel"):
        frames.parse_my_trade("private-my_trades_btcus--4123", EVENT)
