"""How a Bitstamp reply becomes an error of the tree in ``errors.py``: :func:`classify`.

Bitstamp reports errors in several shapes (reference §6, §4.3, §4.5, §4.6): a JSON body
``{"status": "error", "reason": ..., "code": "API0004"}`` (``reason`` a string or a
``{field: [messages], "__all__": [...]}`` dict, an optional ``response_code`` like
``"400.020"``), a legacy ``{"error": ...}`` body, HTML pages from the web server or CDN, and
the plain text ``"<ip> blocked for 900 seconds"``. Many arrive with HTTP **200**, so
:func:`classify` reads the body, not only the status. It matches codes first, then the
well-known message texts (case-insensitive, trailing "." ignored), then the status.

The response codes 500.004/500.005/500.015/500.018 (no orders to trade against) are definite
refusals, so they map to ``InvalidOrder`` rather than ``ExchangeUnavailable``.

Separate from ``errors.py`` because the rules (code tables, message patterns, Retry-After
parsing) change with what Bitstamp sends, while the tree is the contract callers catch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import msgspec

from .errors import (
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
    ProtocolError,
    RateLimited,
    TimestampOutOfWindow,
    TradingDisabled,
    _WaitHint,  # package-private base of the errors that carry retry_after
)
from .fields import TOO_DEEP, http_date

__all__ = ["classify"]

_CODE_GROUPS: dict[type[BitstampError], str] = {
    PermissionDenied: "API0003 403.001",
    InvalidNonce: "API0004",
    TimestampOutOfWindow: "API0017 API0018",
    RateLimited: "400.002 400.067 400.068",
    TradingDisabled: "400.003 403.002 403.003 403.004 403.006 500.006 500.008 500.010 500.011"
    " 500.012 500.014",
    InsufficientBalance: "400.009 400.075",
    BelowMinimum: "400.020 400.046",
    PriceOutOfBand: "400.021 400.065 400.066 400.070 400.071",
    PrecisionError: "400.026 400.041",
    InvalidOrder: "400.005 400.006 400.008 400.019 400.022 400.023 400.024 400.025 400.027"
    " 400.028 400.031 400.032 400.033 400.037 400.038 400.039 403.009 403.010 500.004 500.005"
    " 500.015 500.017 500.018",
    OrderNotFound: "404.002",
    NotFound: "404.003 404.004 404.005 404.006 404.007 404.008 410.001",
    BadRequest: "405.001",
}
# Generic codes (400.001 unknown validation error, 404.001, 500.001, ...) are left out on
# purpose: their message says more, and the code's prefix is the fallback.
_CODES = {code: cls for cls, codes in _CODE_GROUPS.items() for code in codes.split()}

# Tried in order against every message, lower-cased with a trailing "." removed. Compiled on
# first use (``re``'s cache), not at import: an error reply is rare, a start is every time.
_TEXTS: list[tuple[str, type[BitstampError]]] = [
    (pattern, cls)
    for cls, pattern in [
        (RateLimited, r"blocked for \d+ seconds|rate limit"),
        (ExchangeUnavailable, r"under (scheduled )?maintenance|due to internal error"),
        (PermissionDenied, r"^no permission found$"),
        (InvalidNonce, r"^invalid nonce$"),
        (TimestampOutOfWindow, r"x-auth-timestamp header is (out of boundaries|invalid)"),
        (AuthenticationError, r"^(api key not found|ip address not allowed|invalid signature)$"),
        (AuthenticationError, r"^(authentication failed|invalid version|wrong api key format)$"),
        (AuthenticationError, r"^missing key, signature and nonce|^your account is frozen$"),
        (AuthenticationError, r"header is required|^content-type header|fatca"),
        (OrderNotFound, r"^order not found|^invalid order id$"),
        (InsufficientBalance, r"check your account balance|^insufficient (balance|funds)"),
        (InsufficientBalance, r"^you need .* to open that order|^you can only (buy|sell)"),
        (InsufficientBalance, r"^you have only .* available"),
        (BelowMinimum, r"^minimum order size is|lower than minimum order value"),
        (BelowMinimum, r"order amount is too low"),
        (PrecisionError, r"no more than \d+ (decimal places|digits)|malformed: (amount|price)$"),
        (PrecisionError, r"enter a number|valid number is required"),
        (PriceOutOfBand, r"^price is more than \d+% (above|below)|price is out of range"),
        (TradingDisabled, r"trad(e|ing) halt|\btrading\b.*\b(unavailable|disabled|blocked)"),
        (TradingDisabled, r"\btrading\b.*\bnot allowed"),
        (InvalidOrder, r"^order could not be placed|^no (buy|sell) orders for"),
        (InvalidOrder, r"^maximum market (buy|sell)|only one of optional parameters"),
        (InvalidOrder, r"^both limit_price and|if executed price must be|expire_time"),
        (InvalidOrder, r"client_order_id already exists"),
    ]
]

_PLACEMENT = re.compile(r"/api/v2/((buy|sell)/((market|instant)/)?[a-z0-9_-]+|replace_order)/?$")
_BLOCKED = re.compile(r"blocked for (\d+(?:\.\d+)?) seconds", re.IGNORECASE)
_NOT_JSON = object()
_TITLE = re.compile(rb"<title>\s*([^<]{1,120}?)\s*</title>", re.IGNORECASE)


def classify(
    *,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    endpoint: str,
    now: datetime | None = None,
) -> BitstampError | None:
    """Return None for a successful reply, else the error it carries.

    ``endpoint`` is the request path (a full URL works too). ``now`` is only used to turn a
    Retry-After HTTP-date into seconds when the response has no ``Date`` header; it defaults
    to the wall clock.
    """
    try:
        payload: Any = msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):  # msgspec raises the latter on bad UTF-8
        payload = _NOT_JSON
    except RecursionError:  # msgspec past the interpreter's depth: no reply is that deep
        return ProtocolError(f"HTTP {status}: the reply is {TOO_DEEP}", http_status=status,
                             endpoint=endpoint)  # fmt: skip
    failed = isinstance(payload, dict) and _is_error(payload)
    if 200 <= status < 300 and isinstance(payload, dict | list) and not failed:
        return None  # the common case: no header is read, nothing is built
    facts: dict[str, Any] = {"http_status": status, "endpoint": endpoint}
    wait = _retry_after(headers, now)
    if failed:
        return _from_payload(payload, status, wait, facts)
    if payload is _NOT_JSON:
        stripped = body.lstrip()
        if "html" in (_header(headers, "content-type") or "").lower() or stripped[:1] == b"<":
            return _html_error(status, stripped, wait, facts)
        text = body.decode("utf-8", "replace")
        if blocked := _BLOCKED.search(text):
            wait = wait if wait is not None else float(blocked.group(1))  # float-ok: seconds
            return RateLimited(_snippet(text), retry_after=wait, **facts)
        return _status_error(status, f"not JSON: {_snippet(text)!r}", wait, facts, plain=True)
    if 200 <= status < 300:
        return ProtocolError(f"unexpected JSON {type(payload).__name__} in the reply", **facts)
    return _status_error(status, f"HTTP {status} from {endpoint}", wait, facts)


def _is_error(payload: Mapping[str, Any]) -> bool:
    status = payload.get("status")
    return (isinstance(status, str) and status.lower() == "error") or bool(payload.get("error"))


def _from_payload(
    payload: Mapping[str, Any], status: int, wait: float | None, facts: dict[str, Any]
) -> BitstampError:
    messages: list[str] = []
    fields: dict[str, list[str]] = {}
    for key in ("reason", "error", "message"):
        value = payload.get(key)
        if isinstance(value, Mapping):
            for name, msgs in value.items():
                items = msgs if isinstance(msgs, list) else [msgs]
                fields.setdefault(str(name), []).extend(str(m) for m in items if m is not None)
        elif isinstance(value, list):
            messages += [str(m) for m in value if isinstance(m, str | int | float)]
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            messages.append(str(value))
    texts = [m for m in messages if m.strip()]
    texts += [m for m in fields.get("__all__", []) if m.strip()]
    texts += [f"{n}: {m}" for n, ms in fields.items() if n != "__all__" for m in ms if m.strip()]
    code, response_code = (_str_or_none(payload.get(k)) for k in ("code", "response_code"))
    explanation = _str_or_none(payload.get("response_explanation"))
    message = "; ".join(texts) or explanation or ""
    facts |= {"code": code, "response_code": response_code, "field_errors": fields}
    cls = _CODES.get(code or "") or _CODES.get(response_code or "")
    if cls is None and code and code.upper().startswith("API"):
        cls = AuthenticationError
    if cls is None:
        said = [*messages, *(m for ms in fields.values() for m in ms), explanation or ""]
        normalised = [t.strip().rstrip(".").strip().lower() for t in said]
        cls = next((c for p, c in _TEXTS for t in normalised if t and re.search(p, t)), None)
    if cls is None and response_code:
        prefix = response_code[:1]
        cls = {"4": _refusal(facts), "5": ExchangeUnavailable}.get(prefix)
        cls = NotFound if response_code.startswith("404") else cls
    if cls is None:
        return _status_error(status, message, wait, facts)
    return _build(cls, message, wait, facts)


def _status_error(
    status: int, message: str, wait: float | None, facts: dict[str, Any], *, plain: bool = False
) -> BitstampError:
    """Fall back on the HTTP status when neither a code nor a known message decided."""
    if status == 429:
        return RateLimited(message, retry_after=wait, **facts)
    if status >= 500:
        return ExchangeUnavailable(message, retry_after=wait, **facts)
    if status == 404:
        return NotFound(message, **facts)
    if status in (401, 403):
        return AuthenticationError(message, **facts)
    if 400 <= status < 500:
        return _refusal(facts)(message, **facts)
    if plain or not 200 <= status < 300:
        return ProtocolError(message, **facts)
    return _refusal(facts)(message, **facts)  # a 200 with an unrecognised error marker


def _refusal(facts: Mapping[str, Any]) -> type[BitstampError]:
    """An unrecognised validation error: an order refusal on a placement path, else BadRequest."""
    path = urlsplit(str(facts.get("endpoint") or "")).path.lower()
    return InvalidOrder if _PLACEMENT.search(path) else BadRequest


def _html_error(
    status: int, body: bytes, wait: float | None, facts: dict[str, Any]
) -> BitstampError:
    found = _TITLE.search(body[:4096])
    page = found.group(1).decode("utf-8", "replace") if found else "an HTML page"
    where = facts["endpoint"]
    if status == 404:
        return NotFound(f"{where} does not exist on Bitstamp ({page})", **facts)
    if status == 429:
        return RateLimited(f"Too many requests ({page})", retry_after=wait, **facts)
    return ExchangeUnavailable(f"HTTP {status} with {page} from {where}", retry_after=wait, **facts)


def _build(
    cls: type[BitstampError], message: str, wait: float | None, facts: dict[str, Any]
) -> BitstampError:
    if issubclass(cls, _WaitHint):
        if wait is None and (blocked := _BLOCKED.search(message)):
            wait = float(blocked.group(1))  # float-ok: seconds
        return cls(message, retry_after=wait, **facts)
    return cls(message, **facts)


def _retry_after(headers: Mapping[str, str], now: datetime | None) -> float | None:
    """Seconds from a Retry-After header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    value = (_header(headers, "retry-after") or "").strip()
    if not value:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", value, re.ASCII):
        return float(value)  # float-ok: seconds
    when = http_date(value)
    if when is None:
        return None
    # The server's own Date header is on the same clock as its Retry-After date.
    reference = http_date(_header(headers, "date") or "") or now or datetime.now(UTC)
    if reference.tzinfo is None:
        reference = reference.replace(tzinfo=UTC)
    return max(0.0, (when - reference).total_seconds())


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def _str_or_none(value: object) -> str | None:
    return None if value is None or isinstance(value, dict | list) else str(value)


def _snippet(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
