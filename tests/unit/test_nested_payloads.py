"""A frame or reply nested thousands deep (a broken proxy, a hostile peer, a fuzzer) is
refused with the wire's own errors: msgspec raises RecursionError past the interpreter's
depth, and that must not escape as itself. Found by the fuzz count (tests/counts): a deep
reply to an order submit escaped ``classify`` as RecursionError, so the order was left
PENDING instead of UNKNOWN (reconciled); a deep frame ended the stream's connection instead
of being a ``FrameRejected``."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from workstation.bitstamp import account, market_data, markets, orders
from workstation.bitstamp.error_rules import classify
from workstation.bitstamp.errors import BitstampError, ProtocolError
from workstation.bitstamp.stream_frames import FrameError, parse_frame

DEPTH = 5000
LIST = b"[" * DEPTH + b"1" + b"]" * DEPTH
OBJECT = b'{"a":' * DEPTH + b"1" + b"}" * DEPTH

PARSERS: dict[str, Callable[[bytes], object]] = {
    "ticker": lambda b: market_data.parse_ticker(b, "btcusd"),
    "tickers": market_data.parse_tickers,
    "order_book": lambda b: market_data.parse_order_book(b, "btcusd"),
    "transactions": lambda b: market_data.parse_transactions(b, "btcusd"),
    "ohlc": market_data.parse_ohlc,
    "markets": markets.parse_markets,
    "trading_pairs_info": markets.parse_trading_pairs_info,
    "account_balances": account.parse_account_balances,
    "legacy_balance": account.parse_legacy_balance,
    "trading_fees": account.parse_trading_fees,
    "websockets_token": account.parse_websockets_token,
    "user_transactions": account.parse_user_transactions,
    "open_orders": orders.parse_open_orders,
    "order_status": orders.parse_order_status,
    "order_ack": orders.parse_order_ack,
    "cancel": orders.parse_cancel,
    "cancel_all": orders.parse_cancel_all,
    "replace": orders.parse_replace,
}
BODIES = {
    "list": LIST,
    "object": OBJECT,
    "in a field": b'{"bids": ' + LIST + b"}",
    "in a row": b'[{"a": ' + LIST + b"}]",
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_classify_calls_a_deep_reply_unreadable(body: bytes) -> None:
    error = classify(status=200, headers={}, body=body, endpoint="/api/v2/buy/btcusd/")
    assert isinstance(error, ProtocolError)
    assert "nested too deeply" in error.message


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
@pytest.mark.parametrize("name", PARSERS)
def test_every_parser_refuses_a_deep_body_with_a_payload_error(name: str, body: bytes) -> None:
    with pytest.raises(BitstampError):
        PARSERS[name](body)


@pytest.mark.parametrize(
    "frame",
    [
        OBJECT,
        b'{"event": "data", "channel": "diff_order_book_btcusd", "data": ' + LIST + b"}",
        b'{"event": "trade", "channel": "live_trades_btcusd", "data": {"id": ' + LIST + b"}}",
        b'{"event": "order_created", "channel": "private-my_orders_btcusd-1", "data": '
        + OBJECT
        + b"}",
        b'{"event": "data", "channel": "diff_order_book_btcusd", "data": {"timestamp": "1", '
        b'"microtimestamp": "1", "bids": ' + LIST + b', "asks": []}}',
    ],
    ids=["envelope", "diff", "trade", "order", "diff side"],
)
def test_a_deep_frame_is_a_frame_error(frame: bytes) -> None:
    with pytest.raises(FrameError, match="nested too deeply"):
        parse_frame(frame)
