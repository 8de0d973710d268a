"""Every way a Bitstamp call can fail, as one typed tree: the errors callers catch.

How a reply becomes one of these is :func:`workstation.bitstamp.error_rules.classify`
(reference §6); the error bodies the simulator sends are built in
``workstation.sim.wire.error_bodies``. This module is only the contract: the classes and
``is_retryable``.

The tree::

    BitstampError                 base; .title .message .http_status .code .response_code
    │                             .field_errors .endpoint
    ├── AuthenticationError       API0001..API0021 (key, signature, headers, account frozen)
    │   ├── InvalidNonce          API0004: nonce reused within the window
    │   ├── TimestampOutOfWindow  API0017, API0018: our clock is off, or the header is bad
    │   └── PermissionDenied      API0003 "No permission found": the key lacks the right
    ├── RateLimited               429, 400.002/400.067/400.068, "blocked for N seconds";
    │                             .retry_after seconds when known
    ├── ExchangeUnavailable       5xx, HTML error pages, maintenance, 500.0xx; .retry_after
    ├── NotFound                  HTML 404 page (unknown market path), 404.003 pair not found
    ├── OrderRejected             the exchange refused the order request (a refused placement
    │   │                         leaves no order behind)
    │   ├── InsufficientBalance   "You need X USD to open that order...", 400.009
    │   ├── BelowMinimum          "Minimum order size is 10.0 USD.", 400.020
    │   ├── PrecisionError        "no more than N decimal places", 400.026/400.041
    │   ├── PriceOutOfBand        "Price is more than 20% above market price.", 400.021
    │   ├── TradingDisabled       400.003, "Trading is currently unavailable...", trade halt
    │   │                         (a cancel refused "due to trade halt" lands here too)
    │   └── InvalidOrder          any other placement refusal (400.024, empty book, ...)
    ├── OrderNotFound             "Order not found", 404.002, "Invalid order id"
    ├── BadRequest                any other validation error ("Limit too large.")
    ├── ProtocolError             a reply we cannot make sense of (bad JSON on a 200, odd shape);
    │                             every codec's parse error (PayloadError, FrameError,
    │                             MarketCodecError) is one
    ├── OutcomeUnknown            an order was sent and no readable reply came: reconcile,
    │                             never resend
    └── TransportError            the connection failed on a safe call (message only)

``is_retryable`` says which errors a *safe* call (a read) may be retried on. An order
submission is never retried: on ``ExchangeUnavailable``, a lost reply or one it cannot read
(``ProtocolError``) it becomes ``OutcomeUnknown``, carrying the ``client_order_id``.

No error here holds a request, headers or an exception object from the HTTP library: only
strings and numbers, so no secret can travel inside one (raise them ``from None``).
"""

# ruff: noqa: N818 - these class names are the contract other modules import.
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

__all__ = [
    "AuthenticationError",
    "BadRequest",
    "BelowMinimum",
    "BitstampError",
    "ExchangeUnavailable",
    "InsufficientBalance",
    "InvalidNonce",
    "InvalidOrder",
    "NotFound",
    "OrderNotFound",
    "OrderRejected",
    "OutcomeUnknown",
    "PermissionDenied",
    "PrecisionError",
    "PriceOutOfBand",
    "ProtocolError",
    "RateLimited",
    "TimestampOutOfWindow",
    "TradingDisabled",
    "TransportError",
    "is_retryable",
]


_REPR_FACTS = ("client_order_id", "http_status", "code", "response_code", "endpoint", "retry_after")


class BitstampError(Exception):
    """Base of every Bitstamp failure. ``str(error)`` is the message; ``title`` is a headline."""

    title: ClassVar[str] = "Bitstamp error"

    def __init__(
        self,
        message: str = "",
        *,
        http_status: int | None = None,
        code: str | None = None,
        response_code: str | None = None,
        field_errors: Mapping[str, Sequence[str]] | None = None,
        endpoint: str | None = None,
    ) -> None:
        self.message = message or self.title
        self.http_status = http_status
        self.code = code
        self.response_code = response_code
        self.field_errors: dict[str, list[str]] = {
            k: list(v) for k, v in (field_errors or {}).items()
        }
        self.endpoint = endpoint
        super().__init__(self.message)

    @property
    def facts(self) -> str:
        """The raw facts on one line for a log or an error screen: status, codes, endpoint."""
        parts = [f"HTTP {self.http_status}" if self.http_status is not None else None]
        parts += [self.code, self.response_code, self.endpoint]
        return " · ".join(p for p in parts if p)

    def __repr__(self) -> str:
        extra = "".join(
            f", {n}={getattr(self, n)!r}" for n in _REPR_FACTS if getattr(self, n, None) is not None
        )
        return f"{type(self).__name__}({self.message!r}{extra})"


class AuthenticationError(BitstampError):
    title = "Authentication failed"


class InvalidNonce(AuthenticationError):
    title = "Nonce rejected"


class TimestampOutOfWindow(AuthenticationError):
    title = "Clock out of sync"


class PermissionDenied(AuthenticationError):
    title = "Permission denied"


class _WaitHint(BitstampError):
    """An error that may say how long to wait before the next request."""

    def __init__(self, message: str = "", *, retry_after: float | None = None, **facts: Any):
        super().__init__(message, **facts)
        self.retry_after = retry_after
        """Seconds to wait before the next request, when Bitstamp said so."""


class RateLimited(_WaitHint):
    title = "Rate limited"


class ExchangeUnavailable(_WaitHint):
    title = "Exchange unavailable"


class NotFound(BitstampError):
    title = "Not found"


class OrderRejected(BitstampError):
    title = "Order rejected"


class InsufficientBalance(OrderRejected):
    title = "Insufficient balance"


class BelowMinimum(OrderRejected):
    title = "Below minimum order size"


class PrecisionError(OrderRejected):
    title = "Too many decimals"


class PriceOutOfBand(OrderRejected):
    title = "Price too far from market"


class TradingDisabled(OrderRejected):
    title = "Trading disabled"


class InvalidOrder(OrderRejected):
    title = "Invalid order"


class OrderNotFound(BitstampError):
    title = "Order not found"


class BadRequest(BitstampError):
    title = "Request refused"


class ProtocolError(BitstampError):
    title = "Unreadable reply"


class TransportError(BitstampError):
    title = "Connection problem"

    @classmethod
    def from_exception(cls, exc: BaseException, *, endpoint: str | None = None) -> TransportError:
        """Keep only the exception's name and text: it may hold the signed request."""
        text = str(exc).strip()
        name = type(exc).__name__
        return cls(f"{name}: {text}" if text else name, endpoint=endpoint)


class OutcomeUnknown(BitstampError):
    title = "Order outcome unknown"

    def __init__(self, client_order_id: str, endpoint: str, *, cause: str | None = None):
        why = f" ({cause})" if cause else ""
        super().__init__(
            f"No readable reply came for order {client_order_id}{why}. It may or may not exist "
            "on the exchange. It will be reconciled by its client_order_id and will not be "
            "resent.",
            endpoint=endpoint,
        )
        self.client_order_id = client_order_id


def is_retryable(error: BaseException) -> bool:
    """True when a *safe* call may be sent again after ``error``; never for order refusals."""
    return isinstance(error, RateLimited | ExchangeUnavailable | TransportError)
