"""Recorded real Bitstamp replies classify right, and the simulator's error bodies match them.

The georlav captures are raw HTTP responses: a status line, headers, a blank line, the body.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

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
    PermissionDenied,
    PrecisionError,
    PriceOutOfBand,
    RateLimited,
    TimestampOutOfWindow,
    TradingDisabled,
)
from workstation.sim.wire.error_bodies import (
    blocked_text,
    error_body,
    legacy_error_body,
    not_found_page,
)

BUY = "/api/v2/buy/btcusd/"
STATUS = "/api/v2/order_status/"
TX = "/api/v2/user_transactions/"

# Every georlav capture with the endpoint it answered and what classify must make of it.
GEORLAV: dict[str, tuple[str, type[BitstampError] | None]] = {
    "get_account_balance_200.txt": ("/api/v2/balance/btceur/", None),
    "get_account_balances_200.txt": ("/api/v2/balance/", None),
    "get_user_transactions_200.txt": (TX, None),
    "get_user_transactions_200_no_results.txt": (TX, None),
    "get_user_transactions_200_with_validation_error.txt": (TX, BadRequest),
    "getticker_200.txt": ("/api/v2/ticker/btcusd/", None),
    "gettickerhourly_200.txt": ("/api/v2/ticker_hour/usdceur/", None),
    "getticker_404.txt": ("/api/v2/ticker/foobar/", NotFound),
    "not_found_page_404.txt": ("/api/v2/ticker_hour/foobar/", NotFound),
}


def read_response(path: Path) -> tuple[int, dict[str, str], bytes]:
    """Split a raw capture into status, headers and body at the first blank line."""
    raw = path.read_bytes().replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    status_line, *lines = head.decode("latin-1").split("\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    return int(status_line.split()[1]), headers, body


def test_every_capture_is_covered(recorded: Path) -> None:
    assert sorted(p.name for p in (recorded / "georlav").glob("*.txt")) == sorted(GEORLAV)


@pytest.mark.parametrize("name", sorted(GEORLAV))
def test_recorded_reply(recorded: Path, name: str) -> None:
    endpoint, expected = GEORLAV[name]
    status, headers, body = read_response(recorded / "georlav" / name)
    error = classify(status=status, headers=headers, body=body, endpoint=endpoint)
    if expected is None:
        assert status == 200
        assert error is None
    else:
        assert type(error) is expected
        assert error.http_status == status
        assert error.endpoint == endpoint


def test_validation_error_despite_http_200(recorded: Path) -> None:
    path = recorded / "georlav" / "get_user_transactions_200_with_validation_error.txt"
    status, headers, body = read_response(path)
    assert status == 200
    assert "X-Server-Auth-Signature" in headers
    error = classify(status=status, headers=headers, body=body, endpoint=TX)
    assert type(error) is BadRequest
    assert error.message == "Limit too large."
    assert error.field_errors == {}
    assert error.code is None
    assert error.response_code is None


def test_html_404_pages(recorded: Path) -> None:
    messages = {}
    for name in ("getticker_404.txt", "not_found_page_404.txt"):
        status, headers, body = read_response(recorded / "georlav" / name)
        assert headers["Content-Type"].startswith("text/html")
        messages[name] = classify(status=status, headers=headers, body=body, endpoint="/x/").message
    assert messages["getticker_404.txt"] == "/x/ does not exist on Bitstamp (404 Not Found)"
    assert (
        messages["not_found_page_404.txt"]
        == "/x/ does not exist on Bitstamp (404 Error - Bitstamp)"
    )


# --- the simulator's bodies ---------------------------------------------------------------------


def test_not_found_page_is_the_recorded_one(recorded: Path) -> None:
    _, headers, body = read_response(recorded / "georlav" / "getticker_404.txt")
    page = not_found_page()
    # The capture lost the final newline; its Content-Length still counts it.
    assert page == body + b"\n"
    assert len(page) == int(headers["Content-Length"])


def test_error_body_reproduces_the_recorded_bytes(recorded: Path) -> None:
    path = recorded / "georlav" / "get_user_transactions_200_with_validation_error.txt"
    _, _, body = read_response(path)
    assert json.dumps(error_body("Limit too large.")).encode() == body


def test_error_body_key_order_and_optional_keys() -> None:
    assert error_body("Limit too large.") == {"status": "error", "reason": "Limit too large."}
    assert list(error_body("Invalid nonce", code="API0004")) == ["status", "reason", "code"]
    body = error_body({"__all__": ["x"]}, code="C", response_code="400.001")
    assert list(body) == ["status", "reason", "code", "response_code"]
    assert list(error_body("x", response_code="403.004")) == ["status", "reason", "response_code"]


def test_error_body_normalises_field_messages_to_lists() -> None:
    body = error_body({"amount": ("a", "b"), "__all__": ""})
    assert body["reason"] == {"amount": ["a", "b"], "__all__": [""]}


def test_error_body_serialises_like_bitstamp() -> None:
    body = json.dumps(error_body("Invalid nonce", code="API0004"))
    assert body == '{"status": "error", "reason": "Invalid nonce", "code": "API0004"}'


NEED_USD = (
    "You need 105.33 USD to open that order. You have only 3.20 USD available."
    " Check your account balance for details."
)
ONLY_BTC = "You have only 0.5 BTC available. Check your account balance for details."
MINIMUM = "Minimum order size is 10.0 USD."
DECIMALS = "Ensure that there are no more than 8 decimal places."
MAINTENANCE = "Bitstamp.net is under scheduled maintenance. We'll be back soon."
UNAVAILABLE = "Trading is currently unavailable for your account."

# fmt: off
ROUND_TRIP: list[tuple[int, dict[str, Any], str, type[BitstampError]]] = [
    (403, error_body("API key not found", code="API0001"), TX, AuthenticationError),
    (403, error_body("No permission found", code="API0003"), TX, PermissionDenied),
    (403, error_body("Invalid nonce", code="API0004"), TX, InvalidNonce),
    (403, error_body("X-Auth-Timestamp header is out of boundaries", code="API0017"), TX,
     TimestampOutOfWindow),
    (400, error_body("Exceeded rate limit", response_code="400.002"), TX, RateLimited),
    (500, error_body("Unknown server error", response_code="500.001"), TX, ExchangeUnavailable),
    (404, error_body("Currency pair not found.", response_code="404.003"), TX, NotFound),
    (400, error_body({"__all__": [NEED_USD]}, response_code="400.009"), BUY,
     InsufficientBalance),
    (400, error_body({"__all__": [MINIMUM]}, response_code="400.020"), BUY, BelowMinimum),
    (400, error_body({"amount": [DECIMALS], "__all__": [""]}, response_code="400.026"), BUY,
     PrecisionError),
    (400, error_body({"__all__": ["Price is more than 20% below market price."]},
                     response_code="400.021"), BUY, PriceOutOfBand),
    (400, error_body("Trading for provided market is disabled.", response_code="400.003"), BUY,
     TradingDisabled),
    (400, error_body("Only one of optional parameters can be set.", response_code="400.024"),
     BUY, InvalidOrder),
    (404, error_body("Order not found.", response_code="404.002"), STATUS, OrderNotFound),
    (200, error_body("Limit too large."), TX, BadRequest),
    # Without any code: the message text alone decides.
    (200, error_body({"__all__": [MINIMUM]}), BUY, BelowMinimum),
    (200, error_body({"__all__": [ONLY_BTC]}), BUY, InsufficientBalance),
    (200, error_body({"price": ["Ensure that there are no more than 2 decimal places."]}), BUY,
     PrecisionError),
    (200, error_body({"__all__": ["Price is more than 20% above market price."]}), BUY,
     PriceOutOfBand),
    (200, error_body({"__all__": [UNAVAILABLE]}), BUY, TradingDisabled),
    (200, error_body({"__all__": ["Order could not be placed."]}), BUY, InvalidOrder),
    (200, error_body("Order not found"), STATUS, OrderNotFound),
    (200, legacy_error_body(MAINTENANCE), TX, ExchangeUnavailable),
    (200, legacy_error_body("No permission found"), TX, PermissionDenied),
]
# fmt: on


@pytest.mark.parametrize(("status", "body", "endpoint", "cls"), ROUND_TRIP)
def test_round_trip(status: int, body: dict[str, Any], endpoint: str, cls: type) -> None:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    error = classify(status=status, headers=headers, body=raw, endpoint=endpoint)
    assert type(error) is cls
    reason = body.get("reason", body.get("error"))
    if isinstance(reason, dict):
        assert error.field_errors == reason
    else:
        assert error.message == reason
    assert error.code == body.get("code")
    assert error.response_code == body.get("response_code")


def test_blocked_text_round_trip() -> None:
    text = blocked_text("127.0.0.1", 60)
    assert text == "127.0.0.1 blocked for 60 seconds"
    headers = {"Content-Type": "text/plain"}
    error = classify(status=200, headers=headers, body=text.encode(), endpoint=TX)
    assert type(error) is RateLimited
    assert error.retry_after == 60.0


def test_not_found_page_round_trip() -> None:
    headers = {"Content-Type": "text/html"}
    error = classify(status=404, headers=headers, body=not_found_page(), endpoint="/api/v2/x/")
    assert type(error) is NotFound
    assert error.message == "/api/v2/x/ does not exist on Bitstamp (404 Not Found)"
