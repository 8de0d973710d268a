"""Client-side Bitstamp v2 signing: the exact headers, the empty-body rule, nonces, host binding,
response signatures and the learned server clock (reference 5.1, 5.2)."""

from __future__ import annotations

import hashlib
import hmac
import json
import multiprocessing
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from workstation.bitstamp.auth import (
    AuthError,
    Credentials,
    HostMismatchError,
    ResponseSignatureError,
    ServerClock,
    new_nonce,
)
from workstation.bitstamp.errors import BitstampError
from workstation.bitstamp.request_auth import BitstampAuth
from workstation.bitstamp.secret import Secret
from workstation.bitstamp.signing import response_signature, signature, string_to_sign

KEY = "kEy7Hq2ZpLw9Xc4Vb8Nm1As5Df3Gh6Jj"
SECRET = "sEcReT-9f8e7d6c5b4a3928170fedcba9876543"
NONCE = "f93c979d-b00d-43a9-9b9c-fd4cd9547fa6"
T0 = 1_700_000_000_000
FORM = "application/x-www-form-urlencoded"
LIVE = Credentials(Secret(KEY), Secret(SECRET), env="live", host="www.bitstamp.net")
SIM = Credentials(Secret(KEY), Secret(SECRET), env="sim", host="127.0.0.1")
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


class StepClock:
    """A local clock that moves only when told (or by ``step`` on every read)."""

    def __init__(self, start: int = T0, step: int = 0) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> int:
        value = self.now
        self.now += self.step
        return value


def hand_hmac(message: str) -> str:
    return hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


def sign(auth: BitstampAuth, request: httpx.Request) -> httpx.Request:
    """The request as the auth flow would send it (first yield of the sync flow)."""
    return next(auth.sync_auth_flow(request))


def fixed_auth(creds: Credentials = LIVE, *, nonce: str = NONCE) -> BitstampAuth:
    return BitstampAuth(creds, clock=ServerClock(StepClock()), nonce_factory=lambda: nonce)


def assert_no_secrets(text: str) -> None:
    assert KEY not in text
    assert SECRET not in text


def http_date(ms: int) -> str:
    return format_datetime(datetime.fromtimestamp(ms / 1000, tz=UTC), usegmt=True)


# --- the worked example -------------------------------------------------------------------


def test_worked_example_produces_exactly_the_documented_headers() -> None:
    request = httpx.Request(
        "POST", "https://www.bitstamp.net/api/v2/user_transactions/", data={"offset": "1"}
    )
    signed = sign(fixed_auth(), request)

    # The documented order, built by hand: key, method, host, path, query, content type,
    # nonce, timestamp, version, body.
    parts = ["BITSTAMP " + KEY, "POST", "www.bitstamp.net", "/api/v2/user_transactions/", ""]
    parts += ["application/x-www-form-urlencoded", NONCE, "1700000000000", "v2", "offset=1"]
    message = "".join(parts)
    expected_signature = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()

    assert signed.headers["X-Auth"] == "BITSTAMP " + KEY
    assert signed.headers["X-Auth-Signature"] == expected_signature
    assert signed.headers["X-Auth-Nonce"] == NONCE
    assert signed.headers["X-Auth-Timestamp"] == "1700000000000"
    assert signed.headers["X-Auth-Version"] == "v2"
    assert signed.headers["Content-Type"] == FORM
    assert signed.content == b"offset=1"
    # The public helpers agree with the hand-built message.
    built = string_to_sign(
        api_key=KEY,
        method="POST",
        host="www.bitstamp.net",
        path="/api/v2/user_transactions/",
        query="",
        content_type=FORM,
        nonce=NONCE,
        timestamp_ms=T0,
        body="offset=1",
    )
    assert built == message
    assert signature(SECRET, message) == expected_signature
    assert re.fullmatch(r"[0-9a-f]{64}", expected_signature)


@pytest.mark.parametrize(
    "request_kwargs",
    [{"headers": {"Content-Type": FORM}}, {"data": {}}, {}],
    ids=["ct", "data", "-"],
)
def test_empty_body_has_no_content_type_and_signs_empty_strings(request_kwargs: dict) -> None:
    url = "https://www.bitstamp.net/api/v2/account_balances/"
    signed = sign(fixed_auth(), httpx.Request("POST", url, **request_kwargs))

    assert "Content-Type" not in signed.headers
    assert signed.content == b""
    # Content type and body both "" in the message.
    message = f"BITSTAMP {KEY}POSTwww.bitstamp.net/api/v2/account_balances/{NONCE}{T0}v2"
    assert signed.headers["X-Auth-Signature"] == hand_hmac(message)


@pytest.mark.parametrize(
    "headers",
    [{"Content-Type": FORM + "; charset=utf-8"}, {"Content-Type": "application/json"}, {}],
)
def test_body_must_be_sent_as_plain_form(headers: dict[str, str]) -> None:
    request = httpx.Request(
        "POST", "https://www.bitstamp.net/api/v2/buy/btcusd/", content=b"amount=1", headers=headers
    )
    with pytest.raises(AuthError, match="x-www-form-urlencoded") as caught:
        sign(fixed_auth(), request)
    assert_no_secrets(str(caught.value) + repr(caught.value))


@pytest.mark.parametrize(
    ("url", "signed_host"),
    [
        ("http://127.0.0.1:8765/api/v2/balance/", "127.0.0.1:8765"),
        ("http://127.0.0.1/api/v2/balance/", "127.0.0.1"),
        ("http://127.0.0.1:80/api/v2/balance/", "127.0.0.1"),
        ("https://127.0.0.1:443/api/v2/balance/", "127.0.0.1"),
        ("https://127.0.0.1:8443/api/v2/balance/", "127.0.0.1:8443"),
    ],
)
def test_port_is_signed_only_when_explicit_and_not_default(url: str, signed_host: str) -> None:
    signed = sign(fixed_auth(SIM), httpx.Request("POST", url, data={"a": "1"}))
    message = f"BITSTAMP {KEY}POST{signed_host}/api/v2/balance/{FORM}{NONCE}{T0}v2a=1"
    assert signed.headers["X-Auth-Signature"] == hand_hmac(message)


def test_query_is_signed_without_question_mark() -> None:
    request = httpx.Request("GET", "https://www.bitstamp.net/api/v2/earn/subscriptions/?a=1&b=x")
    signed = sign(fixed_auth(), request)
    message = f"BITSTAMP {KEY}GETwww.bitstamp.net/api/v2/earn/subscriptions/a=1&b=x{NONCE}{T0}v2"
    assert signed.headers["X-Auth-Signature"] == hand_hmac(message)


# --- nonces -------------------------------------------------------------------------------


def test_each_attempt_is_signed_afresh() -> None:
    auth = BitstampAuth(SIM, clock=ServerClock(StepClock(step=7)))
    request = httpx.Request("POST", "http://127.0.0.1:8765/api/v2/balance/", data={"a": "1"})
    first = dict(sign(auth, request).headers)
    second = dict(sign(auth, request).headers)
    assert first["x-auth-nonce"] != second["x-auth-nonce"]
    assert first["x-auth-timestamp"] != second["x-auth-timestamp"]
    assert first["x-auth-signature"] != second["x-auth-signature"]
    assert UUID4.fullmatch(first["x-auth-nonce"])


def test_each_send_through_a_client_carries_a_new_nonce() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["X-Auth-Nonce"])
        return httpx.Response(200, json={})

    auth = BitstampAuth(SIM, clock=ServerClock(StepClock(step=1)))
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client:
        for _ in range(3):
            client.post("http://127.0.0.1:8765/api/v2/balance/", data={"a": "1"})
    assert len(set(seen)) == 3


def test_a_nonce_factory_breaking_the_format_is_refused() -> None:
    request = httpx.Request("POST", "https://www.bitstamp.net/api/v2/balance/")
    with pytest.raises(AuthError, match="nonce"):
        sign(fixed_auth(nonce="F93C979D-B00D-43A9-9B9C-FD4CD9547FA6"), request)


def _nonce_batch(count: int) -> list[str]:
    return [new_nonce() for _ in range(count)]


def test_nonces_are_unique_across_processes() -> None:
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        batches = pool.map(_nonce_batch, [10_000] * 4)
    nonces = [nonce for batch in batches for nonce in batch]
    assert len(nonces) == 40_000
    assert len(set(nonces)) == 40_000
    assert all(UUID4.fullmatch(nonce) for nonce in nonces)


# --- host binding and secrecy -------------------------------------------------------------


def test_credentials_refuse_to_sign_for_another_host() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    auth = BitstampAuth(SIM)
    with (
        httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client,
        pytest.raises(HostMismatchError) as caught,
    ):
        client.post("https://www.bitstamp.net/api/v2/balance/", data={"a": "1"})
    assert sent == []
    message = str(caught.value)
    assert "'sim'" in message
    assert "127.0.0.1" in message
    assert "www.bitstamp.net" in message
    assert isinstance(caught.value, BitstampError)
    assert_no_secrets(message + repr(caught.value))


def test_host_binding_ignores_case() -> None:
    creds = Credentials(Secret(KEY), Secret(SECRET), env="live", host="WWW.Bitstamp.NET")
    assert creds.host == "www.bitstamp.net"
    sign(fixed_auth(creds), httpx.Request("POST", "https://www.bitstamp.net/api/v2/balance/"))


def test_nothing_printable_shows_the_key_or_the_secret() -> None:
    auth = BitstampAuth(LIVE)
    for text in (repr(LIVE), str(LIVE), f"{LIVE}", repr(auth), str(auth), repr([LIVE])):
        assert_no_secrets(text)
    assert "<hidden>" in repr(LIVE)
    assert "live" in repr(LIVE)


@pytest.mark.parametrize(
    ("key", "secret", "env", "host"),
    [
        ("", SECRET, "live", "www.bitstamp.net"),
        (KEY + " x", SECRET, "live", "www.bitstamp.net"),
        (KEY, "", "live", "www.bitstamp.net"),
        (KEY, SECRET, "", "www.bitstamp.net"),
        (KEY, SECRET, "live", "https://www.bitstamp.net/"),
    ],
)
def test_invalid_credentials_are_refused_without_echoing_them(
    key: str, secret: str, env: str, host: str
) -> None:
    with pytest.raises(ValueError, match="must be") as caught:
        Credentials(Secret(key), Secret(secret), env=env, host=host)
    assert_no_secrets(str(caught.value) + repr(caught.value))


# --- response signature (5.2) -------------------------------------------------------------


def signed_reply(request: httpx.Request, body: bytes, *, status: int = 200) -> httpx.Response:
    """What Bitstamp sends: the reply body signed with the request's nonce and timestamp."""
    content_type = "application/json"
    message = (
        request.headers["X-Auth-Nonce"] + request.headers["X-Auth-Timestamp"] + content_type
    ).encode() + body
    digest = hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()
    headers = {"Content-Type": content_type, "X-Server-Auth-Signature": digest}
    return httpx.Response(status, content=body, headers=headers)


def post_with(handler: Callable[[httpx.Request], httpx.Response], **kwargs: bool) -> httpx.Response:
    auth = BitstampAuth(SIM, clock=ServerClock(StepClock(step=1)), **kwargs)
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client:
        return client.post("http://127.0.0.1:8765/api/v2/balance/", data={"a": "1"})


@pytest.mark.parametrize("case", [str.lower, str.upper])
def test_a_correct_response_signature_passes(case: Callable[[str], str]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        reply = signed_reply(request, b'{"usd_balance": "10.00"}')
        reply.headers["X-Server-Auth-Signature"] = case(reply.headers["X-Server-Auth-Signature"])
        return reply

    response = post_with(handler)
    assert response.status_code == 200
    assert response.json() == {"usd_balance": "10.00"}


def test_a_tampered_response_is_rejected() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        reply = signed_reply(request, b'{"usd_balance": "10.00"}')
        return httpx.Response(200, content=b'{"usd_balance": "99.00"}', headers=reply.headers)

    with pytest.raises(ResponseSignatureError) as caught:
        post_with(handler)
    assert "/api/v2/balance/" in str(caught.value)
    assert_no_secrets(str(caught.value) + repr(caught.value))


def test_a_reply_signed_for_another_nonce_is_rejected() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        forged = httpx.Request("POST", request.url, headers=dict(request.headers))
        forged.headers["X-Auth-Nonce"] = NONCE
        return signed_reply(forged, b"{}")

    with pytest.raises(ResponseSignatureError):
        post_with(handler)


def test_response_signature_is_only_checked_on_200() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = b'{"status": "error", "reason": "Invalid signature", "code": "API0005"}'
        return httpx.Response(403, content=body, headers={"X-Server-Auth-Signature": "0" * 64})

    assert post_with(handler).status_code == 403


def test_missing_response_signature_is_accepted_unless_required() -> None:
    assert post_with(lambda request: httpx.Response(200, json={})).status_code == 200
    with pytest.raises(ResponseSignatureError, match="no X-Server-Auth-Signature"):
        post_with(lambda request: httpx.Response(200, json={}), require_response_signature=True)


def test_response_signature_helper_matches_the_documented_formula() -> None:
    body = b'{"a": 1}'
    expected = hmac.new(
        SECRET.encode(), (NONCE + "1700000000000" + "application/json").encode() + body, "sha256"
    ).hexdigest()
    assert response_signature(SECRET, NONCE, T0, "application/json", body) == expected
    assert response_signature(SECRET, NONCE, "1700000000000", "application/json", body) == expected


# --- server clock -------------------------------------------------------------------------


def test_observe_uses_the_midpoint_of_the_round_trip() -> None:
    clock = ServerClock(StepClock(T0))
    clock.observe(server_ms=T0 + 600_000, sent_ms=T0 - 200, received_ms=T0 + 200)
    assert clock.offset_ms == 600_000
    assert clock.now_ms() == T0 + 600_000
    with pytest.raises(ValueError, match="earlier"):
        clock.observe(server_ms=T0, sent_ms=T0 + 1, received_ms=T0)


def test_observe_date_keeps_a_consistent_offset_and_fixes_a_wrong_one() -> None:
    clock = ServerClock(StepClock(T0))
    date = http_date(T0 + 600_000)
    assert clock.observe_date(date, sent_ms=T0 - 100, received_ms=T0 + 100) is True
    assert abs(clock.offset_ms - 600_000) <= 1_100
    learned = clock.offset_ms
    # A second reply consistent with the learned offset does not make it jitter.
    assert clock.observe_date(date, sent_ms=T0 - 100, received_ms=T0 + 100) is False
    assert clock.offset_ms == learned
    assert clock.observe_date("not a date", sent_ms=T0, received_ms=T0) is False


def test_with_a_server_ten_minutes_ahead_timestamps_land_in_the_window() -> None:
    local = StepClock(T0, step=5)
    server_offset = 600_000
    stamps: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        stamps.append(int(request.headers["X-Auth-Timestamp"]))
        return httpx.Response(200, json={}, headers={"Date": http_date(local.now + server_offset)})

    auth = BitstampAuth(SIM, clock=ServerClock(local))
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client:
        client.post("http://127.0.0.1:8765/api/v2/balance/")
        client.post("http://127.0.0.1:8765/api/v2/balance/")
    server_now = local.now + server_offset
    assert abs(stamps[0] - server_now) > 150_000  # the first request could not know
    assert abs(stamps[1] - server_now) <= 2_000  # one observed reply was enough


def test_a_timestamp_rejection_after_learning_the_clock_is_retried_once() -> None:
    local = StepClock(T0, step=5)
    server_offset = -400_000
    stamps: list[int] = []
    nonces: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        stamp = int(request.headers["X-Auth-Timestamp"])
        stamps.append(stamp)
        nonces.append(request.headers["X-Auth-Nonce"])
        server_now = local.now + server_offset
        headers = {"Date": http_date(server_now)}
        if abs(stamp - server_now) > 150_000:
            body = {"status": "error", "reason": "X-Auth-Timestamp header is out of boundaries"}
            body["code"] = "API0017"
            return httpx.Response(403, content=json.dumps(body).encode(), headers=headers)
        return httpx.Response(200, json={"ok": True}, headers=headers)

    auth = BitstampAuth(SIM, clock=ServerClock(local))
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client:
        response = client.post("http://127.0.0.1:8765/api/v2/balance/", data={"a": "1"})
    assert response.status_code == 200
    assert len(stamps) == 2
    assert nonces[0] != nonces[1]


def test_a_timestamp_rejection_is_not_retried_when_the_clock_did_not_move() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        body = b'{"status": "error", "reason": "X-Auth-Timestamp header is out of boundaries", '
        return httpx.Response(403, content=body + b'"code": "API0017"}')

    assert post_with(handler).status_code == 403
    assert calls == [1]
