"""The ``httpx.Auth`` that signs every private Bitstamp request (reference 5.1, 5.2).

`BitstampAuth` is handed to httpx once by the REST client's transport, and every private
request is signed on the way out, so no call site builds auth headers by hand. Each pass
through the flow signs afresh (new nonce, new timestamp), so a retried request is a new
signature and never trips Bitstamp's nonce-reuse check (API0004). The choices where the
reference is uncertain, and the errors raised, are described in ``auth``. The transport makes
one on its first signed request: importing httpx is left out of a start's path to its book.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Generator

import httpx

from .auth import (
    AuthError,
    Credentials,
    HostMismatchError,
    ResponseSignatureError,
    ServerClock,
    new_nonce,
)
from .signing import (
    AUTH_VERSION,
    FORM_CONTENT_TYPE,
    response_signature,
    signature,
    string_to_sign,
)

__all__ = ["BitstampAuth"]

_NONCE_RE = re.compile(r"[0-9a-f-]{36}")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_timestamp_rejection(response: httpx.Response) -> bool:
    if response.status_code != 403:
        return False
    try:
        payload = json.loads(response.content)
    except ValueError:
        return False
    return isinstance(payload, dict) and payload.get("code") == "API0017"


class BitstampAuth(httpx.Auth):
    """Signs private requests with Bitstamp's v2 header scheme (reference 5.1, 5.2).

    Args:
        credentials: the key pair and the host it is bound to.
        clock: server clock shared by every request of one environment; its offset is
            learned from each response's ``Date`` header.
        nonce_factory: returns a lowercase 36-character nonce per attempt.
        require_response_signature: treat a 200 reply without ``X-Server-Auth-Signature``
            as forged (real Bitstamp always sends it on authenticated replies).
        retry_on_clock_skew: when the server answers API0017 and its ``Date`` moved our
            clock estimate, re-sign once and resend (the rejected request never executed).
    """

    requires_request_body = True
    requires_response_body = True

    def __init__(
        self,
        credentials: Credentials,
        *,
        clock: ServerClock | None = None,
        nonce_factory: Callable[[], str] = new_nonce,
        require_response_signature: bool = False,
        retry_on_clock_skew: bool = True,
    ) -> None:
        self._credentials = credentials
        self._clock = clock if clock is not None else ServerClock()
        self._nonce_factory = nonce_factory
        self._require_response_signature = require_response_signature
        self._retry_on_clock_skew = retry_on_clock_skew

    def __repr__(self) -> str:
        return f"BitstampAuth(env={self._credentials.env!r}, host={self._credentials.host!r})"

    @property
    def clock(self) -> ServerClock:
        """The server clock this auth stamps requests with."""
        return self._clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign, send, learn the clock from the reply, verify the reply's signature."""
        retried = False
        while True:
            signed_offset = self._clock.offset_ms
            nonce, timestamp = self._sign(request)
            sent_ms = self._clock.local_ms()
            response = yield request
            received_ms = self._clock.local_ms()
            date = response.headers.get("Date")
            moved = date is not None and self._clock.observe_date(date, sent_ms, received_ms)
            # a request in flight alongside the one that taught us the offset was signed with
            # the old one: it deserves its one re-sign too
            moved = moved or self._clock.offset_ms != signed_offset
            if (
                moved
                and not retried
                and self._retry_on_clock_skew
                and _is_timestamp_rejection(response)
            ):
                retried = True
                continue
            self._verify_response(request, response, nonce, timestamp)
            return

    def _sign(self, request: httpx.Request) -> tuple[str, str]:
        """Set the five X-Auth headers on ``request``; returns the nonce and timestamp used."""
        creds = self._credentials
        url = request.url
        port = url.port or _DEFAULT_PORTS.get(url.scheme)
        if url.host.lower() != creds.host or creds.port not in (None, port):
            bound = creds.host if creds.port is None else f"{creds.host}:{creds.port}"
            raise HostMismatchError(
                f"credentials for environment {creds.env!r} are bound to host {bound!r}; "
                f"refusing to sign a request to {url.netloc.decode('ascii')!r}"
            )
        body = request.content
        if body:
            content_type = request.headers.get("Content-Type")
            if content_type != FORM_CONTENT_TYPE:
                raise AuthError(
                    f"a signed request body must be sent as {FORM_CONTENT_TYPE!r}, "
                    f"got Content-Type {content_type!r} (Bitstamp answers API0019)"
                )
        else:
            # Bitstamp answers API0020 if Content-Type comes with an empty body (5.1).
            request.headers.pop("Content-Type", None)
            content_type = ""
        nonce = self._nonce_factory()
        if not isinstance(nonce, str) or not _NONCE_RE.fullmatch(nonce):
            raise AuthError("nonce factory must return a lowercase 36-character string")
        timestamp = str(self._clock.now_ms())
        raw_path, _, _ = url.raw_path.decode("ascii").partition("?")
        message = string_to_sign(
            api_key=creds.key.reveal(),
            method=request.method,
            host=url.netloc.decode("ascii"),
            path=raw_path,
            query=url.query.decode("ascii"),
            content_type=content_type,
            nonce=nonce,
            timestamp_ms=timestamp,
            body="",
        )
        request.headers["X-Auth"] = f"BITSTAMP {creds.key.reveal()}"
        request.headers["X-Auth-Signature"] = signature(creds.secret, message.encode() + body)
        request.headers["X-Auth-Nonce"] = nonce
        request.headers["X-Auth-Timestamp"] = timestamp
        request.headers["X-Auth-Version"] = AUTH_VERSION
        return nonce, timestamp

    def _verify_response(
        self, request: httpx.Request, response: httpx.Response, nonce: str, timestamp: str
    ) -> None:
        """Check ``X-Server-Auth-Signature`` on HTTP 200 replies, as the official examples do."""
        if response.status_code != 200:
            return
        received = response.headers.get("X-Server-Auth-Signature")
        where = f"{request.method} {request.url.path}"
        if received is None:
            if self._require_response_signature:
                raise ResponseSignatureError(f"reply to {where} carries no X-Server-Auth-Signature")
            return
        expected = response_signature(
            self._credentials.secret,
            nonce,
            timestamp,
            response.headers.get("Content-Type", ""),
            response.content,
        )
        if not hmac.compare_digest(expected.encode(), received.strip().lower().encode()):
            raise ResponseSignatureError(
                f"X-Server-Auth-Signature on the reply to {where} does not match its body"
            )
