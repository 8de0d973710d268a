"""Edge cases of the public wire codecs: REST payloads (bitstamp.market_data) and stream
frames (bitstamp.stream_frames), with the simulator's encoders (sim.wire). Payload shapes
follow reference sections 3.1-3.5 and 7.2-7.4; the recorded real traffic is exercised in
tests/protocol.
"""

from __future__ import annotations

import importlib
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workstation.bitstamp.errors import ProtocolError
from workstation.bitstamp.fields import PayloadError, book_number
from workstation.bitstamp.market_data import (
    parse_ohlc,
    parse_order_book,
    parse_ticker,
    parse_tickers,
    parse_transactions,
)
from workstation.bitstamp.stream_frames import (
    BookDiffEvent,
    BookSnapshotEvent,
    BookTopEvent,
    FrameError,
    HeartbeatReply,
    MyTradeFrame,
    ReconnectRequested,
    StreamErrorEvent,
    SubscriptionSucceeded,
    TradeEvent,
    UnknownEvent,
    UnsubscriptionSucceeded,
    encode_heartbeat,
    encode_subscribe,
    encode_unsubscribe,
    parse_frame,
)
from workstation.domain.common import Side
from workstation.domain.market_data import BookDiff, BookSnapshot, Candle, Ticker, Trade
from workstation.domain.numbers import NumberFormatError, parse_decimal
from workstation.sim.wire.market_data import (
    encode_ohlc,
    encode_order_book,
    encode_ticker,
    encode_transactions,
)
from workstation.sim.wire.stream_frames import (
    encode_ack,
    encode_book_frame,
    encode_diff_frame,
    encode_error,
    encode_heartbeat_reply,
    encode_reconnect_request,
    encode_trade_frame,
    encode_unsubscribe_ack,
)

D = Decimal

# A 2024 BTC/USDT ticker (0 quote decimals), as in ccxt's static response fixtures.
TICKER_2024 = {
    "timestamp": "1710328241",
    "open": "71448",
    "high": "73656",
    "low": "68626",
    "last": "73285",
    "volume": "135.29692054",
    "vwap": "70853",
    "bid": "73353",
    "ask": "73367",
    "side": "0",
    "open_24": "72144",
    "percent_change_24": "1.58",
}


def _trade_frame(**data: object) -> str:
    base: dict[str, object] = {
        "id": 216000506,
        "timestamp": "1641343721",
        "amount": 2.73248242,
        "amount_str": "2.73248242",
        "price": 3800.8,
        "price_str": "3800.80",
        "type": 1,
        "microtimestamp": "1641343721269000",
        "buy_order_id": 1443875826053121,
        "sell_order_id": 1443875826118657,
    }
    base.update(data)
    return json.dumps({"data": base, "channel": "live_trades_ethusd", "event": "trade"})


# --- REST: ticker -----------------------------------------------------------------------


def test_ticker_2024_shape() -> None:
    t = parse_ticker(json.dumps(TICKER_2024), "btcusdt")
    assert t == Ticker(
        market="btcusdt",
        timestamp=1710328241,
        last=D("73285"),
        high=D("73656"),
        low=D("68626"),
        vwap=D("70853"),
        volume=D("135.29692054"),
        bid=D("73353"),
        ask=D("73367"),
        open=D("71448"),
        open_24=D("72144"),
        percent_change_24=D("1.58"),
        side=Side.BUY,
    )
    encoded = encode_ticker(t, 8, 0)
    assert encoded == TICKER_2024
    assert list(encoded) == list(TICKER_2024)


def test_ticker_negative_change_and_sell_side() -> None:
    body = {**TICKER_2024, "percent_change_24": "-0.73", "side": "1"}
    t = parse_ticker(json.dumps(body), "btcusdt")
    assert t.percent_change_24 == D("-0.73")
    assert t.side is Side.SELL


@pytest.mark.parametrize(
    ("field", "text", "why"),
    [
        ("last", "NaN", "must be a number"),
        ("bid", "1e5", "exponent"),
        ("ask", "-5", "negative"),
        ("volume", " 1.0", "spaces"),
        ("side", "2", "side must be 0 or 1"),
        ("timestamp", "1_710_328_241", "timestamp is not a whole number"),
    ],
)
def test_ticker_rejects_bad_values(field: str, text: str, why: str) -> None:
    with pytest.raises(PayloadError, match=why):
        parse_ticker(json.dumps({**TICKER_2024, field: text}), "btcusdt")


def test_ticker_missing_field_and_bad_json() -> None:
    body = dict(TICKER_2024)
    del body["vwap"]
    with pytest.raises(PayloadError, match="vwap"):
        parse_ticker(json.dumps(body), "btcusdt")
    with pytest.raises(PayloadError):
        parse_ticker("<html>404</html>", "btcusdt")


def test_all_markets_ticker_takes_market_from_its_name() -> None:
    rows = [
        {**TICKER_2024, "pair": "BTC/USDT", "market": "BTC/USDT"},
        {**TICKER_2024, "market": "ETH/USD-PERP"},
        {**TICKER_2024, "pair": "XRP/EUR"},
    ]
    tickers = parse_tickers(json.dumps(rows))
    assert [t.market for t in tickers] == ["btcusdt", "ethusd-perp", "xrpeur"]
    assert encode_ticker(tickers[0], 8, 0, market_name="BTC/USDT") == rows[0]
    with pytest.raises(PayloadError, match="without market"):
        parse_tickers(json.dumps([TICKER_2024]))


# --- REST: order book -------------------------------------------------------------------


def test_group0_keeps_repeated_prices_and_group1_merges_them() -> None:
    body = {
        "timestamp": "1641343695",
        "microtimestamp": "1641343695681418",
        "bids": [["3802.90", "0.60000000"], ["3802.90", "1.00000000"], ["3802.89", "3.2"]],
        "asks": [["3805.47", "8.26964788"]],
    }
    book = parse_order_book(json.dumps(body), "ethusd")
    assert book.bids == ((D("3802.90"), D("0.6")), (D("3802.90"), D("1")), (D("3802.89"), D("3.2")))
    assert book.bid_order_ids is None
    assert encode_order_book(book, 8, 2, group=0)["bids"] == [
        ["3802.90", "0.60000000"],
        ["3802.90", "1.00000000"],
        ["3802.89", "3.20000000"],
    ]
    assert encode_order_book(book, 8, 2, group=1)["bids"] == [
        ["3802.90", "1.60000000"],
        ["3802.89", "3.20000000"],
    ]


def test_group2_carries_order_ids_and_round_trips() -> None:
    body = {
        "timestamp": "1641343695",
        "microtimestamp": "1641343695681418",
        "bids": [["3802.90", "0.60000000", "1443875737346049"]],
        "asks": [["3805.47", "8.26964788", "1443875731320832"], ["3806.00", "1.00000000", "7"]],
    }
    book = parse_order_book(json.dumps(body), "ethusd")
    assert book.bid_order_ids == (1443875737346049,)
    assert book.ask_order_ids == (1443875731320832, 7)
    assert encode_order_book(book, 8, 2, group=2) == body
    with pytest.raises(ValueError, match="order ids"):
        encode_order_book(BookSnapshot("ethusd", 1, book.bids, book.asks), 8, 2, group=2)
    with pytest.raises(ValueError, match="group"):
        encode_order_book(book, 8, 2, group=3)


@pytest.mark.parametrize(
    ("bids", "asks", "why"),
    [
        ([["1.0", "2.0"], ["0.9", "1.0", "5"]], [], "rows must all be"),
        ([["1.0"]], [], "rows must all be"),
        ([["1.0", "2.0", "5"]], [["1.1", "2.0"]], "one side"),
        ([["1.0", "2.0", "x5"]], [], "order id is not a whole number"),
        ([["1,0", "2.0"]], [], "decimal point"),
    ],
)
def test_order_book_rejects_malformed_rows(
    bids: list[list[str]], asks: list[list[str]], why: str
) -> None:
    body = {"timestamp": "1", "microtimestamp": "1000000", "bids": bids, "asks": asks}
    with pytest.raises(PayloadError, match=why):
        parse_order_book(json.dumps(body), "btcusd")


def test_empty_book_is_valid() -> None:
    body = '{"timestamp": "1", "microtimestamp": "1000001", "bids": [], "asks": []}'
    book = parse_order_book(body, "btcusd")
    assert (book.bids, book.asks, book.timestamp_us, book.timestamp) == ((), (), 1000001, 1)


@given(st.text(max_size=45))
def test_book_number_accepts_and_rejects_exactly_like_parse_decimal(text: str) -> None:
    try:
        expected: Decimal | str = parse_decimal(text)
    except NumberFormatError as exc:
        expected = str(exc)
    try:
        got: Decimal | str = book_number(text)
    except NumberFormatError as exc:
        got = str(exc)
    assert type(got) is type(expected)
    assert str(got) == str(expected)


# --- REST: transactions, OHLC -----------------------------------------------------------


def test_transactions_newest_first_and_round_trip() -> None:
    rows = [
        {"date": "1710327533", "tid": "326595342", "amount": "0.00055284", "price": "73254",
         "type": "0"},
        {"date": "1710327530", "tid": "326595341", "amount": "1.00000000", "price": "73250",
         "type": "1"},
    ]  # fmt: skip
    trades = parse_transactions(json.dumps(rows), "btcusdt")
    assert trades[0] == Trade(
        "btcusdt", 326595342, D("73254"), D("0.00055284"), Side.BUY, 1710327533_000000
    )
    assert [t.side for t in trades] == [Side.BUY, Side.SELL]
    assert [t.id for t in trades] == [326595342, 326595341]
    assert encode_transactions(trades, 8, 0) == rows
    with pytest.raises(PayloadError, match="type must be 0 or 1"):
        parse_transactions(json.dumps([{**rows[0], "type": "buy"}]), "btcusdt")
    with pytest.raises(PayloadError, match="tid"):
        parse_transactions(json.dumps([{**rows[0], "tid": "-1"}]), "btcusdt")


def test_ohlc_round_trip() -> None:
    body = {
        "data": {
            "pair": "BTC/USD",
            "market": "BTC/USD",
            "ohlc": [
                {"timestamp": "1710327600", "open": "73241", "high": "73293", "low": "73240",
                 "close": "73285", "volume": "0.01076655"},
                {"timestamp": "1710327660", "open": "73285", "high": "73285", "low": "73100",
                 "close": "73101", "volume": "2.50000000"},
            ],
        }
    }  # fmt: skip
    candles = parse_ohlc(json.dumps(body))
    assert candles[0] == Candle(
        1710327600, D("73241"), D("73293"), D("73240"), D("73285"), D("0.01076655")
    )
    assert len(candles) == 2
    assert encode_ohlc("BTC/USD", candles, 8, 0) == body
    # ccxt's 2024 capture has only "pair": still parses.
    del body["data"]["market"]
    assert parse_ohlc(json.dumps(body)) == candles
    with pytest.raises(PayloadError, match="ohlc"):
        parse_ohlc('{"data": {}}')


# --- stream: client requests ------------------------------------------------------------


def test_client_requests_are_compact_json() -> None:
    assert encode_subscribe("live_trades_btcusd") == (
        '{"event":"bts:subscribe","data":{"channel":"live_trades_btcusd"}}'
    )
    assert encode_subscribe("private-my_orders_btcusd-4848701", auth="tok") == (
        '{"event":"bts:subscribe","data":{"channel":"private-my_orders_btcusd-4848701",'
        '"auth":"tok"}}'
    )
    assert encode_unsubscribe("live_trades_btcusd") == (
        '{"event":"bts:unsubscribe","data":{"channel":"live_trades_btcusd"}}'
    )
    assert encode_heartbeat() == '{"event":"bts:heartbeat"}'


# --- stream: control events -------------------------------------------------------------


def test_control_frames_encode_as_in_reference_table_and_parse_back() -> None:
    cases = [
        (encode_ack("live_trades_btcusd"), SubscriptionSucceeded("live_trades_btcusd")),
        (encode_unsubscribe_ack("order_book_xrpusd"), UnsubscriptionSucceeded("order_book_xrpusd")),
        (encode_heartbeat_reply(), HeartbeatReply("success")),
        (encode_reconnect_request(), ReconnectRequested()),
        (encode_error("Incorrect JSON format."), StreamErrorEvent(None, "Incorrect JSON format.")),
        (encode_error("Connection is unauthorized.", code=4009),
         StreamErrorEvent(4009, "Connection is unauthorized.")),
    ]  # fmt: skip
    for frame, event in cases:
        assert parse_frame(frame) == event
    assert encode_heartbeat_reply() == (
        '{"event":"bts:heartbeat","channel":"","data":{"status":"success"}}'
    )
    assert encode_reconnect_request() == '{"event":"bts:request_reconnect","channel":"","data":""}'
    assert encode_error("Connection is unauthorized.", 4009) == (
        '{"event":"bts:error","channel":"",'
        '"data":{"code":4009,"message":"Connection is unauthorized."}}'
    )


@pytest.mark.parametrize("data", ['""', "{}", None])
def test_reconnect_request_with_any_data(data: str | None) -> None:
    body = "" if data is None else f',"data":{data}'
    assert parse_frame(f'{{"event":"bts:request_reconnect","channel":""{body}}}') == (
        ReconnectRequested()
    )


def test_odd_control_data_never_raises() -> None:
    assert parse_frame('{"event":"bts:error","channel":"","data":"boom"}') == StreamErrorEvent(
        None, "boom"
    )
    assert parse_frame('{"event":"bts:error","channel":"","data":{"code":"x"}}') == (
        StreamErrorEvent(None, "")
    )
    assert parse_frame('{"event":"bts:heartbeat","channel":""}') == HeartbeatReply("")


def test_unknown_events_are_values_not_errors() -> None:
    assert parse_frame('{"event":"bts:connection_established","channel":"","data":{}}') == (
        UnknownEvent("bts:connection_established", "")
    )
    funding = '{"data":{},"channel":"funding_rate_btcusd-perp","event":"funding_rate_saved"}'
    assert parse_frame(funding) == UnknownEvent("funding_rate_saved", "funding_rate_btcusd-perp")
    # A known channel with an event it does not carry.
    assert parse_frame('{"data":{},"channel":"live_orders_btcusd","event":"order_replaced"}') == (
        UnknownEvent("order_replaced", "live_orders_btcusd")
    )
    assert parse_frame('{"data":{},"channel":"live_trades_btcusd","event":"data"}') == (
        UnknownEvent("data", "live_trades_btcusd")
    )


@pytest.mark.parametrize("frame", ["not json", "[1, 2]", '{"channel": "x"}', '"event"', ""])
def test_non_frames_raise_frame_error(frame: str) -> None:
    with pytest.raises(FrameError) as info:
        parse_frame(frame)
    assert isinstance(info.value, ProtocolError)  # in the error tree, not a bare ValueError
    assert info.value.channel is None


# --- stream: trades ---------------------------------------------------------------------


def test_string_twin_wins_over_the_json_number() -> None:
    event = parse_frame(_trade_frame(price=1.0, price_str="3800.80", amount=9, amount_str="0.5"))
    assert isinstance(event, TradeEvent)
    assert str(event.trade.price) == "3800.80"
    assert event.trade.amount == D("0.5")


def test_a_number_without_twin_is_read_exactly_never_via_float() -> None:
    data = json.loads(_trade_frame())
    del data["data"]["amount_str"], data["data"]["price_str"]
    # More digits than a float holds: only an exact decode keeps the last 1.
    text = json.dumps(data).replace("2.73248242", "0.1000000000000000000001")
    event = parse_frame(text)
    assert isinstance(event, TradeEvent)
    assert event.trade.amount == D("0.1000000000000000000001")
    assert event.trade.price == D("3800.8")
    with pytest.raises(FrameError, match="non-negative"):
        parse_frame(text.replace("0.1000000000000000000001", "-0.5"))


@pytest.mark.parametrize(
    "change",
    [
        {"price_str": "NaN"},
        {"amount_str": "1e-8"},
        {"amount_str": "-1.0"},
        {"type": 2},
        {"microtimestamp": "16413437212690OO"},
        {"id": "216000506"},
    ],
)
def test_bad_trade_payload_raises_frame_error_naming_the_channel(change: dict) -> None:
    with pytest.raises(FrameError) as info:
        parse_frame(_trade_frame(**change))
    assert info.value.channel == "live_trades_ethusd"
    assert info.value.event == "trade"


def test_trade_frame_whole_numbers_and_dust_follow_real_frames() -> None:
    """Real frames write 25862 (no point) and 1e-8 (exponent) beside the string twins."""
    trade = Trade("btcusd", 1, D("25862"), D("0.00000001"), Side.BUY, 1693831262313000, 3, 4)
    frame = encode_trade_frame(trade, 8, 0)
    assert '"amount":1e-8,"amount_str":"0.00000001","price":25862,"price_str":"25862"' in frame
    assert parse_frame(frame) == TradeEvent(trade)


@given(
    price=st.decimals(min_value=D("0.01"), max_value=D("9999999"), places=2),
    amount=st.decimals(min_value=D("0"), max_value=D("100000"), places=8),
    side=st.sampled_from(Side),
    us=st.integers(min_value=0, max_value=2**53),
    order_id=st.integers(min_value=0, max_value=2**53),
)
def test_trade_frame_round_trip(
    price: Decimal, amount: Decimal, side: Side, us: int, order_id: int
) -> None:
    trade = Trade("btcusd", 42, price, amount, side, us, order_id, order_id + 1)
    frame = encode_trade_frame(trade, 8, 2)
    data = json.loads(frame, parse_float=Decimal)["data"]
    assert data["amount"] == amount
    assert data["price"] == price
    assert parse_frame(frame) == TradeEvent(trade)


# --- stream: books ----------------------------------------------------------------------


def test_bad_number_in_a_diff_is_caught_when_read() -> None:
    frame = (
        '{"data":{"timestamp":"1","microtimestamp":"1000001","bids":[["3800.71","1,5"]],'
        '"asks":[]},"channel":"diff_order_book_ethusd","event":"data"}'
    )
    event = parse_frame(frame)  # rows stay text until applied (the book checks them)
    assert isinstance(event, BookDiffEvent)
    with pytest.raises(NumberFormatError, match="decimal point"):
        _ = event.diff
    # A side that is not rows of two texts is JSON all the same: the frame parses, and
    # reading its rows says what is wrong (the book's one-pass check refuses it first).
    for odd in ('"1.5","7"', "1.5"):  # a third column; a JSON number, not Bitstamp's text
        event = parse_frame(frame.replace('"1,5"', odd))
        assert isinstance(event, BookDiffEvent)
        with pytest.raises(FrameError) as info:
            _ = event.bid_rows
        assert info.value.channel == "diff_order_book_ethusd"
        assert event.ask_rows == []
    with pytest.raises(FrameError):
        parse_frame(frame.replace('"1,5"]]', '"1,5"]'))  # not JSON


def test_diff_round_trip_with_deletes() -> None:
    diff = BookDiff(
        "usdtusd",
        1641343691591603,
        ((D("0.99948"), D("0")),),
        ((D("0.99991"), D("0")), (D("0.99994"), D("14883.96385"))),
    )
    frame = encode_diff_frame(diff, 5, 5)
    assert '"asks":[["0.99991","0.00000"],["0.99994","14883.96385"]]' in frame
    assert frame.endswith('"channel":"diff_order_book_usdtusd","event":"data"}')
    event = parse_frame(frame)
    assert isinstance(event, BookDiffEvent)
    assert event.diff == diff
    assert event.ask_rows == [("0.99991", "0.00000"), ("0.99994", "14883.96385")]


def test_book_frame_is_top_100_price_levels() -> None:
    bids = tuple((D(1000 - i), D("1.5")) for i in range(150))
    asks = ((D(1001), D("1")), (D(1001), D("2")), (D(1002), D("0.5")))
    snapshot = BookSnapshot("btcusd", 1700000000123456, bids, asks)
    frame = encode_book_frame(snapshot, 8, 2)
    data = json.loads(frame)
    assert list(data) == ["data", "channel", "event"]
    assert (data["channel"], data["event"]) == ("order_book_btcusd", "data")
    assert data["data"]["timestamp"] == "1700000000"
    assert len(data["data"]["bids"]) == 100
    assert data["data"]["bids"][-1] == ["901.00", "1.50000000"]
    assert data["data"]["asks"] == [["1001.00", "3.00000000"], ["1002.00", "0.50000000"]]
    event = parse_frame(frame)
    assert isinstance(event, BookTopEvent)
    assert event.snapshot.bids == bids[:100]
    assert event.snapshot.asks == ((D(1001), D(3)), (D(1002), D("0.5")))


def test_detail_order_book_frame_has_order_ids() -> None:
    frame = (
        '{"data":{"timestamp":"1","microtimestamp":"1000001",'
        '"bids":[["100.00","1.00000000","11"]],"asks":[["101.00","2.00000000","12"]]},'
        '"channel":"detail_order_book_btcusd","event":"data"}'
    )
    event = parse_frame(frame)
    assert isinstance(event, BookSnapshotEvent)
    assert (event.snapshot.bid_order_ids, event.snapshot.ask_order_ids) == ((11,), (12,))


# --- stream: private frames via order_frames -------------------------------------


def test_private_my_trades_dispatch() -> None:
    module = "workstation.bitstamp.order_frames"
    try:
        importlib.import_module(module).parse_my_trade  # noqa: B018
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"{module}.parse_my_trade not available: {exc}")
    frame = json.dumps(
        {
            "data": {
                "id": 635698396,
                "order_id": "2050558851342339",
                "amount": "0.005000",
                "price": "2468.04",
                "fee": "0.04936",
                "side": "buy",
                "microtimestamp": "1789459694223000",
                "trade_account_id": 0,
            },
            "channel": "private-my_trades_ethusd-4848701",
            "event": "trade",
        }
    )
    event = parse_frame(frame)
    assert isinstance(event, MyTradeFrame)
    assert event.trade.price == D("2468.04")
    assert event.trade.amount == D("0.005")
    with pytest.raises(FrameError) as info:
        parse_frame(frame.replace('"2468.04"', '"2468,04"'))
    assert info.value.channel == "private-my_trades_ethusd-4848701"


def test_diff_frames_take_the_one_pass_path_and_still_report_errors() -> None:
    frame = (
        '{"data":{"timestamp":"1","microtimestamp":"1000001","bids":[["3800.71","1.5"]],'
        '"asks":[]},"channel":"diff_order_book_ethusd","event":"data"}'
    )
    for text in (frame, frame.encode()):
        event = parse_frame(text)
        assert isinstance(event, BookDiffEvent)
        assert (event.market, event.timestamp_us) == ("ethusd", 1000001)
        assert event.bid_rows == [("3800.71", "1.5")]
    with pytest.raises(FrameError) as info:
        parse_frame(frame.replace('"1000001"', '"1e6"'))
    assert info.value.channel == "diff_order_book_ethusd"
    ack = '{"event":"bts:subscription_succeeded","channel":"diff_order_book_ethusd","data":{}}'
    assert parse_frame(ack) == SubscriptionSucceeded("diff_order_book_ethusd")
