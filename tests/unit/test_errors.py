"""The Bitstamp error taxonomy: every body shape lands on the right class with its facts."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workstation.bitstamp import errors as e
from workstation.bitstamp.error_rules import classify
from workstation.bitstamp.errors import (
    AuthenticationError,
    BadRequest,
    BelowMinimum,
    BitstampError,
    ExchangeUnavailable,
    InsufficientBalance,
    InvalidNonce,
    InvalidOrder,
    NotFound,
    OrderNotFound,
    OrderRejected,
    OutcomeUnknown,
    PermissionDenied,
    PrecisionError,
    PriceOutOfBand,
    ProtocolError,
    RateLimited,
    TimestampOutOfWindow,
    TradingDisabled,
    TransportError,
    is_retryable,
)

BUY = "/api/v2/buy/btcusd/"
STATUS = "/api/v2/order_status/"
TX = "/api/v2/user_transactions/"
JSON = {"Content-Type": "application/json"}


def run(
    status: int,
    body: Any,
    endpoint: str = BUY,
    headers: dict[str, str] | None = None,
    now: datetime | None = None,
) -> BitstampError | None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return classify(status=status, headers=headers or JSON, body=raw, endpoint=endpoint, now=now)


def err(reason: Any, **extra: str) -> dict[str, Any]:
    return {"status": "error", "reason": reason, **extra}


# --- the tree -----------------------------------------------------------------------------------


def test_tree_shape() -> None:
    assert issubclass(InvalidNonce, AuthenticationError)
    assert issubclass(TimestampOutOfWindow, AuthenticationError)
    assert issubclass(PermissionDenied, AuthenticationError)
    refusals = (InsufficientBalance, BelowMinimum, PrecisionError, PriceOutOfBand)
    for cls in (*refusals, TradingDisabled, InvalidOrder):
        assert issubclass(cls, OrderRejected)
    for cls in (OrderNotFound, NotFound, BadRequest, ProtocolError, OutcomeUnknown):
        assert not issubclass(cls, OrderRejected)
    everything = [getattr(e, n) for n in e.__all__ if isinstance(getattr(e, n), type)]
    assert all(issubclass(cls, BitstampError) for cls in everything)
    titles = [cls.title for cls in everything]
    assert len(set(titles)) == len(titles), "every class has its own title"


def test_facts_are_kept_and_str_is_the_message() -> None:
    error = BelowMinimum(
        "Minimum order size is 10.0 USD.",
        http_status=400,
        code=None,
        response_code="400.020",
        field_errors={"__all__": ("Minimum order size is 10.0 USD.",)},
        endpoint=BUY,
    )
    assert str(error) == "Minimum order size is 10.0 USD."
    assert error.title == "Below minimum order size"
    assert error.field_errors == {"__all__": ["Minimum order size is 10.0 USD."]}
    assert error.facts == f"HTTP 400 · 400.020 · {BUY}"
    assert repr(error) == (
        "BelowMinimum('Minimum order size is 10.0 USD.', http_status=400, "
        f"response_code='400.020', endpoint='{BUY}')"
    )


def test_empty_message_falls_back_to_the_title() -> None:
    assert str(BadRequest()) == "Request refused"


# --- classify: body shapes --------------------------------------------------------------------

NEED_USD = (
    "You need 105.33 USD to open that order. You have only 3.20 USD available."
    " Check your account balance for details."
)
ONLY_BTC = "You have only 0.00100000 BTC available. Check your account balance for details."
DECIMALS = "Ensure that there are no more than 8 decimal places."
MAINTENANCE = "Bitstamp.net is under scheduled maintenance. We'll be back soon."
CANCEL_FAILED = "Order cancellation failed due to internal error. Please try again."
STAMP = "X-Auth-Timestamp header is"
UNAVAILABLE = "Trading is currently unavailable for your account."
CANCEL = "/api/v2/cancel_order/"
MARKET_BUY, MARKET_SELL = "/api/v2/buy/market/btcusd/", "/api/v2/sell/market/btcusd/"

# (id, status, body, endpoint, class, message)
# fmt: off
CASES: list[tuple[str, int, Any, str, type[BitstampError], str]] = [
    ("nonce", 403, err("Invalid nonce", code="API0004"), TX, InvalidNonce, "Invalid nonce"),
    ("signature", 403, err("Invalid signature", code="API0005"), TX, AuthenticationError,
     "Invalid signature"),
    ("stamp window", 403, err(f"{STAMP} out of boundaries", code="API0017"), TX,
     TimestampOutOfWindow, f"{STAMP} out of boundaries"),
    ("stamp invalid", 403, err(f"{STAMP} invalid", code="API0018"), TX, TimestampOutOfWindow,
     f"{STAMP} invalid"),
    ("no permission", 403, err("No permission found", code="API0003"), TX, PermissionDenied,
     "No permission found"),
    ("no permission legacy", 200, {"error": "No permission found"}, TX, PermissionDenied,
     "No permission found"),
    ("content type", 403, err("Content-Type header is not accepted", code="API0019"), TX,
     AuthenticationError, "Content-Type header is not accepted"),
    ("unknown API code", 403, err("New", code="API0099"), TX, AuthenticationError, "New"),
    ("legacy missing key", 200, {"error": "Missing key, signature and nonce parameters"}, TX,
     AuthenticationError, "Missing key, signature and nonce parameters"),
    ("rate code", 400, err("Exceeded rate limit", response_code="400.002"), TX, RateLimited,
     "Exceeded rate limit"),
    ("client rate", 400, err("Slow", response_code="400.067"), TX, RateLimited, "Slow"),
    ("market rate", 400, err("Slow", response_code="400.068"), TX, RateLimited, "Slow"),
    ("maintenance", 200, {"error": MAINTENANCE}, TX, ExchangeUnavailable, MAINTENANCE),
    ("500 code", 500, err("Unknown server error", response_code="500.001"), TX,
     ExchangeUnavailable, "Unknown server error"),
    ("confirm timeout", 500, err("Timed out", response_code="500.016"), BUY,
     ExchangeUnavailable, "Timed out"),
    ("cancel failed", 200, err(CANCEL_FAILED), CANCEL, ExchangeUnavailable, CANCEL_FAILED),
    ("pair not found", 404, err("No pair", response_code="404.003"), "/api/v2/ticker/x/",
     NotFound, "No pair"),
    ("need usd", 200, err({"__all__": [NEED_USD]}), BUY, InsufficientBalance, NEED_USD),
    ("only btc", 200, err({"__all__": [ONLY_BTC]}), BUY, InsufficientBalance, ONLY_BTC),
    ("can only buy", 200, err({"__all__": ["You can only buy 0.0012 BTC."]}), MARKET_BUY,
     InsufficientBalance, "You can only buy 0.0012 BTC."),
    ("balance code", 400, err("Poor", response_code="400.009"), BUY, InsufficientBalance,
     "Poor"),
    ("minimum", 200, err({"__all__": ["Minimum order size is 10.0 USD."]}), BUY, BelowMinimum,
     "Minimum order size is 10.0 USD."),
    ("minimum legacy", 200, {"error": {"__all__": ["Minimum order size is $5"]}}, BUY,
     BelowMinimum, "Minimum order size is $5"),
    ("minimum code", 400, err("Small", response_code="400.020"), BUY, BelowMinimum, "Small"),
    ("decimals", 200, err({"amount": [DECIMALS], "__all__": [""]}), BUY, PrecisionError,
     f"amount: {DECIMALS}"),
    ("digits legacy", 200, {"error": {"price": ["Ensure that there are no more than 7 digits."]}},
     BUY, PrecisionError, "price: Ensure that there are no more than 7 digits."),
    ("enter a number", 200, err({"__all__": ['price: Enter a number. Use "." as a point.']}),
     BUY, PrecisionError, 'price: Enter a number. Use "." as a point.'),
    ("bad amount code", 400, err("Bad", response_code="400.026"), BUY, PrecisionError, "Bad"),
    ("bad price code", 400, err("Bad", response_code="400.041"), BUY, PrecisionError, "Bad"),
    ("band above", 200, err({"__all__": ["Price is more than 20% above market price."]}), BUY,
     PriceOutOfBand, "Price is more than 20% above market price."),
    ("band below", 200, err("Price is more than 80% below the market price."), BUY,
     PriceOutOfBand, "Price is more than 80% below the market price."),
    ("band code", 400, err("Out", response_code="400.021"), BUY, PriceOutOfBand, "Out"),
    ("unavailable", 200, err({"__all__": [UNAVAILABLE]}, response_code="403.004"), BUY,
     TradingDisabled, UNAVAILABLE),
    ("unavailable text", 200, err({"__all__": [UNAVAILABLE]}), BUY, TradingDisabled,
     UNAVAILABLE),
    ("disabled code", 400, err("Off", response_code="400.003"), BUY, TradingDisabled, "Off"),
    ("trade halt", 200, err("Order cancellation failed due to trade halt."), CANCEL,
     TradingDisabled, "Order cancellation failed due to trade halt."),
    ("two flags", 400, err("Only one", response_code="400.024"), BUY, InvalidOrder, "Only one"),
    ("not placed", 200, err({"__all__": ["Order could not be placed."]}), BUY, InvalidOrder,
     "Order could not be placed."),
    ("empty book", 200, err({"__all__": ["No buy orders for currency pair BTC/USD"]}),
     MARKET_SELL, InvalidOrder, "No buy orders for currency pair BTC/USD"),
    ("empty book code", 500, err("None", response_code="500.004"), MARKET_BUY, InvalidOrder,
     "None"),
    ("odd placement", 400, err("Odd", response_code="400.001"), BUY, InvalidOrder, "Odd"),
    ("odd instant", 200, err({"__all__": ["Odd"]}), "/api/v2/buy/instant/btcusd/",
     InvalidOrder, "Odd"),
    ("not found", 200, {"error": "Order not found"}, CANCEL, OrderNotFound, "Order not found"),
    ("not found dot", 200, err("Order not found."), STATUS, OrderNotFound, "Order not found."),
    ("not found code", 404, err("Gone", response_code="404.002"), STATUS, OrderNotFound, "Gone"),
    ("invalid id", 200, err("Invalid order id"), STATUS, OrderNotFound, "Invalid order id"),
    ("limit too large", 200, err("Limit too large."), TX, BadRequest, "Limit too large."),
    ("missing id", 200, err("Missing id POST param"), STATUS, BadRequest,
     "Missing id POST param"),
    ("odd validation", 400, err("Odd", response_code="400.001"), TX, BadRequest, "Odd"),
    ("403 on placement", 403, err("Cross", response_code="403.005"), BUY, InvalidOrder, "Cross"),
    ("403 elsewhere", 403, err("Cross", response_code="403.005"), TX, BadRequest, "Cross"),
    ("404 generic", 404, err("Nothing", response_code="404.001"), TX, NotFound, "Nothing"),
    ("reason list", 200, err(["Limit too large.", "Odd."]), TX, BadRequest,
     "Limit too large.; Odd."),
    ("bare marker", 200, {"status": "error"}, TX, BadRequest, "Request refused"),
    ("explanation", 400, {"status": "error", "response_code": "400.011",
                          "response_explanation": "Malformed: limit."}, TX, BadRequest,
     "Malformed: limit."),
]
# fmt: on


@pytest.mark.parametrize(
    ("status", "body", "endpoint", "cls", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_classify_shapes(
    status: int, body: Any, endpoint: str, cls: type[BitstampError], message: str
) -> None:
    error = run(status, body, endpoint)
    assert type(error) is cls
    assert error.message == message
    assert error.http_status == status
    assert error.endpoint == endpoint


def test_codes_and_field_errors_are_kept() -> None:
    body = {
        "status": "error",
        "reason": {
            "amount": ["Ensure that there are no more than 8 decimal places."],
            "__all__": [""],
        },
        "code": "X1",
        "response_code": "400.026",
    }
    error = run(400, body)
    assert isinstance(error, PrecisionError)
    assert error.code == "X1"
    assert error.response_code == "400.026"
    assert error.field_errors == {
        "amount": ["Ensure that there are no more than 8 decimal places."],
        "__all__": [""],
    }


def test_codes_win_over_message_texts() -> None:
    # The text alone says "order not found"; the codes say otherwise.
    assert type(run(403, err("Order not found", code="API0004"))) is InvalidNonce
    assert type(run(400, err("Order not found", response_code="400.020"))) is BelowMinimum


def test_generic_code_defers_to_the_message() -> None:
    error = run(404, err("Order not found", response_code="404.001"), STATUS)
    assert type(error) is OrderNotFound


def test_message_match_ignores_case_and_trailing_dot() -> None:
    for text in ("ORDER NOT FOUND", "order not found.", "  Order not found . "):
        assert type(run(200, err(text), STATUS)) is OrderNotFound
    assert type(run(200, err("minimum ORDER size is 10.0 usd"))) is BelowMinimum


def test_all_messages_are_joined_in_the_message() -> None:
    body = err({"__all__": ["First."], "price": ["Second."]})
    error = run(200, body, TX)
    assert error.message == "First.; price: Second."


@pytest.mark.parametrize(
    ("status", "body", "content_type", "cls"),
    [
        (404, b"<html><head><title>404 Not Found</title></head></html>", "text/html", NotFound),
        (404, b"  <!DOCTYPE html><html></html>", "", NotFound),
        (503, b"<html><title>Service Unavailable</title></html>", "text/html", ExchangeUnavailable),
        (502, b"<html>Bad gateway</html>", "text/html; charset=utf-8", ExchangeUnavailable),
        (200, b"<html>Incapsula incident</html>", "text/html", ExchangeUnavailable),
        (403, b"<html>Request unsuccessful</html>", "text/html", ExchangeUnavailable),
        (429, b"<html>slow down</html>", "text/html", RateLimited),
        (200, b"{not json", "application/json", ProtocolError),
        (200, b"", "application/json", ProtocolError),
        (200, b'"a string"', "application/json", ProtocolError),
        (200, b"42", "application/json", ProtocolError),
        (302, b"{}", "application/json", ProtocolError),
        (500, b"Internal Server Error", "text/plain", ExchangeUnavailable),
        (500, b"[]", "application/json", ExchangeUnavailable),
        (404, b'{"detail": "nope"}', "application/json", NotFound),
        (429, b'{"detail": "slow"}', "application/json", RateLimited),
        (401, b"Unauthorized", "text/plain", AuthenticationError),
        (400, b"Bad Request", "text/plain", BadRequest),
        (400, b'{"detail": "x"}', "application/json", BadRequest),
    ],
)
def test_non_bitstamp_bodies(status: int, body: bytes, content_type: str, cls: type) -> None:
    error = classify(status=status, headers={"Content-Type": content_type}, body=body, endpoint=TX)
    assert type(error) is cls
    assert error.http_status == status


def test_html_404_message_names_the_path_and_page() -> None:
    error = run(
        404,
        b"<html><title>404 Not Found</title></html>",
        "/api/v2/ticker/nope/",
        {"Content-Type": "text/html"},
    )
    assert error.message == "/api/v2/ticker/nope/ does not exist on Bitstamp (404 Not Found)"


@pytest.mark.parametrize(
    "body",
    [
        {"high": "53130.00", "last": "52261.99"},
        [],
        [{"currency": "usd", "total": "1.00"}],
        {"id": 1, "status": "Canceled", "market": "BTC/USD"},
        {"canceled": [], "success": True},
        {"status": "Finished", "error": None},
        {"status": "Open", "error": ""},
    ],
)
def test_success_bodies_are_none(body: Any) -> None:
    assert run(200, body, STATUS) is None


# --- rate limits and retry_after ---------------------------------------------------------------


def test_retry_after_seconds_header() -> None:
    error = run(429, err("Too many"), TX, {**JSON, "Retry-After": "12"})
    assert type(error) is RateLimited
    assert error.retry_after == 12.0


def test_retry_after_header_name_is_case_insensitive() -> None:
    assert run(429, b"{}", TX, {"retry-after": "3"}).retry_after == 3.0
    headers = httpx.Headers({"RETRY-AFTER": "4", "content-type": "application/json"})
    assert run(429, b"{}", TX, dict(headers.items())).retry_after == 4.0
    assert classify(status=429, headers=headers, body=b"{}", endpoint=TX).retry_after == 4.0


def test_retry_after_http_date_against_the_servers_date() -> None:
    headers = {
        **JSON,
        "Date": "Sun, 21 Nov 2021 14:04:11 GMT",
        "Retry-After": "Sun, 21 Nov 2021 14:05:41 GMT",
    }
    assert run(429, err("Too many"), TX, headers).retry_after == 90.0


def test_retry_after_http_date_against_now_without_date_header() -> None:
    now = datetime(2021, 11, 21, 14, 4, 11, tzinfo=UTC)
    headers = {**JSON, "Retry-After": "Sun, 21 Nov 2021 14:04:41 GMT"}
    assert run(429, err("Too many"), TX, headers, now=now).retry_after == 30.0
    # A date already past means "now", not a negative wait.
    late = datetime(2021, 11, 21, 15, 0, 0, tzinfo=UTC)
    assert run(429, err("Too many"), TX, headers, now=late).retry_after == 0.0


def test_retry_after_garbage_is_none() -> None:
    assert run(429, err("Too many"), TX, {**JSON, "Retry-After": "soon"}).retry_after is None
    assert run(429, err("Too many"), TX).retry_after is None


def test_blocked_text_sets_retry_after() -> None:
    error = run(200, b"10.10.10.10 blocked for 900 seconds", TX, {"Content-Type": "text/plain"})
    assert type(error) is RateLimited
    assert error.retry_after == 900.0
    assert error.message == "10.10.10.10 blocked for 900 seconds"


def test_retry_after_header_wins_over_text() -> None:
    headers = {"Content-Type": "text/plain", "Retry-After": "5"}
    assert run(403, b"IP address blocked for 900 seconds", TX, headers).retry_after == 5.0


def test_blocked_text_inside_json_reason() -> None:
    error = run(200, err("IP address blocked for 600 seconds"), TX)
    assert type(error) is RateLimited
    assert error.retry_after == 600.0


def test_exchange_unavailable_carries_retry_after() -> None:
    error = run(503, b"<html></html>", TX, {"Content-Type": "text/html", "Retry-After": "30"})
    assert type(error) is ExchangeUnavailable
    assert error.retry_after == 30.0


# --- retry policy, unknown outcomes, transport -------------------------------------------------

# fmt: off
RETRYABLE: list[tuple[BaseException, bool]] = [
    (RateLimited("x"), True), (ExchangeUnavailable("x"), True), (TransportError("x"), True),
    (BitstampError("x"), False), (AuthenticationError("x"), False), (InvalidNonce("x"), False),
    (TimestampOutOfWindow("x"), False), (PermissionDenied("x"), False), (NotFound("x"), False),
    (OrderRejected("x"), False), (InsufficientBalance("x"), False), (BelowMinimum("x"), False),
    (PrecisionError("x"), False), (PriceOutOfBand("x"), False), (TradingDisabled("x"), False),
    (InvalidOrder("x"), False), (OrderNotFound("x"), False), (BadRequest("x"), False),
    (ProtocolError("x"), False), (OutcomeUnknown("c-1", BUY), False), (ValueError("x"), False),
]
# fmt: on


@pytest.mark.parametrize(("error", "expected"), RETRYABLE, ids=lambda v: type(v).__name__)
def test_is_retryable(error: BaseException, expected: bool) -> None:
    assert is_retryable(error) is expected


def test_outcome_unknown_carries_the_order_and_promises_no_resend() -> None:
    error = OutcomeUnknown("ws-20260101-0001", BUY, cause="ReadTimeout")
    assert error.client_order_id == "ws-20260101-0001"
    assert error.endpoint == BUY
    assert "ws-20260101-0001" in error.message
    assert "ReadTimeout" in error.message
    assert "may or may not exist" in error.message
    assert "will not be resent" in error.message
    assert "reconciled" in error.message
    assert error.title == "Order outcome unknown"
    assert "client_order_id='ws-20260101-0001'" in repr(error)


def test_transport_error_keeps_only_text() -> None:
    request = httpx.Request("POST", "https://www.bitstamp.net" + BUY, headers={"X-Auth": "K"})
    exc = httpx.ReadTimeout("timed out", request=request)
    error = TransportError.from_exception(exc, endpoint=BUY)
    assert error.message == "ReadTimeout: timed out"
    assert error.endpoint == BUY
    assert not any(isinstance(v, BaseException | httpx.Request) for v in vars(error).values())
    assert TransportError.from_exception(TimeoutError()).message == "TimeoutError"


# --- robustness ---------------------------------------------------------------------------------


@given(status=st.integers(100, 599), body=st.binary(max_size=300))
def test_classify_is_total_on_any_bytes(status: int, body: bytes) -> None:
    result = classify(status=status, headers={}, body=body, endpoint=TX)
    assert result is None or isinstance(result, BitstampError)
    if result is None:
        assert 200 <= status < 300


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(
    status=st.sampled_from([200, 400, 403, 404, 429, 500, 503]),
    payload=st.dictionaries(
        st.sampled_from(["status", "reason", "error", "code", "response_code", "message"]),
        json_values,
    ),
)
def test_classify_is_total_on_any_json_object(status: int, payload: dict[str, Any]) -> None:
    result = run(status, payload, BUY)
    assert result is None or isinstance(result, BitstampError)
    if result is not None:
        assert isinstance(result.message, str)
        assert result.message


# --- every parse failure is a protocol error (issue 12, item 4) -------------------------------

_FIELDS = [
    "id", "order_id", "orig_order_id", "client_order_id", "price", "amount", "amount_remaining",
    "datetime", "type", "status", "market", "currency_pair", "transactions", "tid", "fee",
    "timestamp", "microtimestamp", "bids", "asks", "data", "event", "channel", "token",
    "user_id", "valid_sec", "fees", "maker", "taker", "canceled", "market_symbol", "name",
    "base_decimals", "counter_decimals", "minimum_order_value", "trading", "ohlc", "pair",
    "last", "high", "low", "volume", "bid", "ask", "vwap", "open", "usd", "btc", "btc_usd",
]  # fmt: skip
_wire_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["", "0", "1", "-1", "0.5", "1e5", "NaN", "2024-01-02 03:04:05", "buy"])
    | st.text(max_size=12)
)
wire_json = st.recursive(
    _wire_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(_FIELDS) | st.text(max_size=6), inner, max_size=8)
    ),
    max_leaves=30,
)


def _parsers() -> dict[str, Any]:
    from workstation.bitstamp import (
        account,
        market_data,
        markets,
        order_frames,
        orders,
        stream_frames,
    )

    return {
        "cancel": orders.parse_cancel,
        "cancel_all": orders.parse_cancel_all,
        "replace": orders.parse_replace,
        "markets": markets.parse_markets,
        "trading_pairs_info": markets.parse_trading_pairs_info,
        "order_ack": orders.parse_order_ack,
        "open_orders": orders.parse_open_orders,
        "order_status": orders.parse_order_status,
        "account_balances": account.parse_account_balances,
        "legacy_balance": account.parse_legacy_balance,
        "trading_fees": account.parse_trading_fees,
        "websockets_token": account.parse_websockets_token,
        "user_transactions": account.parse_user_transactions,
        "ticker": lambda body: market_data.parse_ticker(body, "btcusd"),
        "tickers": market_data.parse_tickers,
        "order_book": lambda body: market_data.parse_order_book(body, "btcusd"),
        "transactions": lambda body: market_data.parse_transactions(body, "btcusd"),
        "ohlc": market_data.parse_ohlc,
        "frame": stream_frames.parse_frame,
        "order_event": lambda body: order_frames.parse_order_event(
            "order_created", "private-my_orders_btcusd-7", body
        ),
        "my_trade": lambda body: order_frames.parse_my_trade("private-my_trades_btcusd-7", body),
    }


def test_every_codec_error_is_a_protocol_error() -> None:
    """A reply we cannot read is a failure of the call like any other: callers that catch
    BitstampError (the order tracker, cancels, the hub) must see it."""
    from workstation.bitstamp.fields import PayloadError
    from workstation.bitstamp.markets import MarketCodecError
    from workstation.bitstamp.stream_frames import FrameError

    for cls in (PayloadError, FrameError, MarketCodecError):
        assert issubclass(cls, ProtocolError), cls
        assert issubclass(cls, BitstampError), cls
    assert FrameError("bad", channel="diff_order_book_btcusd").channel == "diff_order_book_btcusd"
    assert PayloadError("order: id is missing").title == ProtocolError.title


@pytest.mark.parametrize("name", sorted(_parsers()))
@given(payload=wire_json)
def test_every_parser_fails_only_with_a_protocol_error(name: str, payload: Any) -> None:
    """Valid JSON of any shape: a parser returns a value or raises a ProtocolError, nothing
    else (no KeyError, TypeError or bare ValueError escapes the tree)."""
    parse = _parsers()[name]
    body = json.dumps(payload, allow_nan=True).encode()
    try:
        parse(body)
    except ProtocolError as error:  # anything else raised fails with its own traceback
        said = error.message
    else:
        said = "parsed"
    assert said


@pytest.mark.parametrize("name", sorted(_parsers()))
@given(body=st.binary(max_size=60))
def test_every_parser_fails_only_with_a_protocol_error_on_bytes(name: str, body: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        _parsers()[name](body)
