"""Server-side verification of Bitstamp v2 signatures, as the simulator runs it (reference 5.1,
6, 8 item 5, 9.1): what our client and ccxt send is accepted, every API00xx rejection fires."""

from __future__ import annotations

import hashlib
import hmac
import pickle
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workstation.bitstamp.auth import Credentials, ServerClock
from workstation.bitstamp.request_auth import BitstampAuth
from workstation.bitstamp.secret import Secret
from workstation.bitstamp.signing import response_signature
from workstation.sim.wire.auth import (
    NONCE_RETENTION_MS,
    REASONS,
    AuthRejected,
    NonceStore,
    verify_request,
)

KEY = "kEy7Hq2ZpLw9Xc4Vb8Nm1As5Df3Gh6Jj"
SECRET = "sEcReT-9f8e7d6c5b4a3928170fedcba9876543"
NONCE = "0b7c1f1e-3a52-4c1e-9d0c-5e2f3a4b6c7d"
T0 = 1_700_000_000_000
FORM = "application/x-www-form-urlencoded"
SIM = Credentials(Secret(KEY), Secret(SECRET), env="sim", host="127.0.0.1")
URL = "http://127.0.0.1:8765/api/v2/balance/"


def lookup(key: str) -> str | None:
    return SECRET if key == KEY else None


def signed(
    url: str = URL, *, method: str = "POST", data: dict[str, str] | None = None, now: int = T0
) -> httpx.Request:
    """A request signed by our real client at local time ``now``."""
    auth = BitstampAuth(SIM, clock=ServerClock(lambda: now))
    request = httpx.Request(method, url, data=data if data is not None else {"a": "1"})
    return next(auth.sync_auth_flow(request))


def server_view(request: httpx.Request, **overrides: Any) -> dict[str, Any]:
    """The plain values an HTTP server hands to verify_request for ``request``."""
    url = request.url
    path, _, query = url.raw_path.decode("ascii").partition("?")
    view: dict[str, Any] = {
        "method": request.method,
        "host": url.host,
        "port": url.port or 8765,
        "scheme": url.scheme,
        "path": path,
        "query": query,
        "headers": dict(request.headers),
        "body": request.content,
        "lookup_secret": lookup,
        "nonces": NonceStore(),
        "now_ms": T0,
    }
    view.update(overrides)
    return view


def with_headers(request: httpx.Request, **changes: str | None) -> dict[str, str]:
    """The request's headers with some replaced (``None`` removes one); names use ``_``."""
    headers = dict(request.headers)
    for name, value in changes.items():
        header = name.replace("_", "-").lower()
        if value is None:
            headers.pop(header, None)
        else:
            headers[header] = value
    return headers


def rejected(**view: Any) -> AuthRejected:
    with pytest.raises(AuthRejected) as caught:
        verify_request(**view)
    text = str(caught.value) + repr(caught.value) + repr(caught.value.payload)
    assert KEY not in text
    assert SECRET not in text
    return caught.value


def hand_signature(message: str, *, upper: bool = False) -> str:
    digest = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    return digest.upper() if upper else digest


def hand_headers(signature: str, *, body: bool = True) -> dict[str, str]:
    headers = {
        "X-Auth": f"BITSTAMP {KEY}",
        "X-Auth-Signature": signature,
        "X-Auth-Nonce": NONCE,
        "X-Auth-Timestamp": str(T0),
        "X-Auth-Version": "v2",
    }
    if body:
        headers["Content-Type"] = FORM
    return headers


def hand_view(headers: dict[str, str], *, body: bytes = b"foo=bar", **overrides: Any) -> dict:
    view: dict[str, Any] = {
        "method": "POST",
        "host": "127.0.0.1",
        "port": 8765,
        "scheme": "http",
        "path": "/api/v2/account_balances/",
        "query": "",
        "headers": headers,
        "body": body,
        "lookup_secret": lookup,
        "nonces": NonceStore(),
        "now_ms": T0,
    }
    view.update(overrides)
    return view


# --- accepted -----------------------------------------------------------------------------


def test_accepts_what_our_client_signs_and_records_the_nonce() -> None:
    request = signed()
    view = server_view(request)
    assert verify_request(**view) == KEY
    assert view["nonces"].seen(KEY, request.headers["X-Auth-Nonce"], T0)
    assert len(view["nonces"]) == 1


def test_accepts_an_empty_body_without_content_type() -> None:
    request = signed(data={})
    assert "content-type" not in request.headers
    assert verify_request(**server_view(request)) == KEY


def test_accepts_ccxt_signing_the_scheme_on_an_http_base() -> None:
    # ccxt strips only a literal "https://" from the URL, so it signs "http://host:port/path".
    message = (
        f"BITSTAMP {KEY}POSThttp://127.0.0.1:8765/api/v2/account_balances/"
        f"{FORM}{NONCE}{T0}v2foo=bar"
    )
    view = hand_view(hand_headers(hand_signature(message)))
    assert verify_request(**view) == KEY


@pytest.mark.parametrize(
    "signed_host", ["127.0.0.1", "127.0.0.1:8765", "http://127.0.0.1:8765", "http://127.0.0.1"]
)
def test_accepts_each_candidate_host_form(signed_host: str) -> None:
    message = f"BITSTAMP {KEY}POST{signed_host}/api/v2/account_balances/{FORM}{NONCE}{T0}v2foo=bar"
    assert verify_request(**hand_view(hand_headers(hand_signature(message)))) == KEY


def test_rejects_a_host_that_is_not_the_one_addressed() -> None:
    message = (
        f"BITSTAMP {KEY}POSTwww.bitstamp.net/api/v2/account_balances/{FORM}{NONCE}{T0}v2foo=bar"
    )
    assert rejected(**hand_view(hand_headers(hand_signature(message)))).code == "API0005"


@pytest.mark.parametrize("signed_query", ["limit=5", "?limit=5"])
@pytest.mark.parametrize("given_query", ["limit=5", "?limit=5"])
def test_accepts_the_query_with_and_without_question_mark(
    signed_query: str, given_query: str
) -> None:
    message = f"BITSTAMP {KEY}GET127.0.0.1:8765/api/v2/earn/{signed_query}{NONCE}{T0}v2"
    headers = hand_headers(hand_signature(message), body=False)
    view = hand_view(headers, body=b"", method="GET", path="/api/v2/earn/", query=given_query)
    assert verify_request(**view) == KEY


def test_accepts_uppercase_hex() -> None:
    message = f"BITSTAMP {KEY}POST127.0.0.1:8765/api/v2/account_balances/{FORM}{NONCE}{T0}v2foo=bar"
    view = hand_view(hand_headers(hand_signature(message, upper=True)))
    assert verify_request(**view) == KEY


def test_accepts_timestamps_exactly_at_the_window_edges() -> None:
    for skew in (-150_000, 150_000):
        assert verify_request(**server_view(signed(now=T0 + skew))) == KEY


@given(
    fields=st.dictionaries(
        st.text(min_size=1, max_size=12), st.text(max_size=20), min_size=1, max_size=5
    ),
    market=st.sampled_from(["btcusd", "ethbtc", "xrpusd", "btcusd-perp"]),
)
def test_any_form_our_client_signs_verifies_and_any_altered_body_does_not(
    fields: dict[str, str], market: str
) -> None:
    request = signed(f"http://127.0.0.1:8765/api/v2/buy/{market}/", data=fields)
    assert verify_request(**server_view(request)) == KEY
    altered = request.content + b"&x=1"
    assert rejected(**server_view(request, body=altered)).code == "API0005"


# --- rejected -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("X-Auth", "API0012"),
        ("X-Auth-Signature", "API0013"),
        ("X-Auth-Nonce", "API0014"),
        ("X-Auth-Timestamp", "API0015"),
        ("X-Auth-Version", "API0016"),
    ],
)
def test_each_missing_header_has_its_code(header: str, code: str) -> None:
    request = signed()
    for value in (None, ""):
        headers = with_headers(request, **{header.replace("-", "_"): value})
        error = rejected(**server_view(request, headers=headers))
        assert (error.code, error.reason) == (code, f"{header} header is required")


@pytest.mark.parametrize(
    ("changes", "code", "reason"),
    [
        ({"X_Auth_Version": "v1"}, "API0010", "Invalid version"),
        ({"X_Auth": KEY}, "API0011", "Wrong API key format"),
        ({"X_Auth": f"TOKEN {KEY}"}, "API0011", "Wrong API key format"),
        ({"X_Auth": f"BITSTAMP  {KEY}"}, "API0011", "Wrong API key format"),
        ({"X_Auth": "BITSTAMP nosuchkey"}, "API0001", "API key not found"),
        ({"X_Auth_Timestamp": "17e11"}, "API0018", "X-Auth-Timestamp header is invalid"),
        ({"X_Auth_Timestamp": "-1700000000000"}, "API0018", "X-Auth-Timestamp header is invalid"),
        ({"X_Auth_Timestamp": "1700000000000.0"}, "API0018", "X-Auth-Timestamp header is invalid"),
        ({"X_Auth_Timestamp": "١٧٠٠"}, "API0018", "X-Auth-Timestamp header is invalid"),
        ({"X_Auth_Signature": "0" * 64}, "API0005", "Invalid signature"),
        ({"X_Auth_Signature": "é" * 64}, "API0005", "Invalid signature"),
        ({"X_Auth_Nonce": "with space"}, "API0004", "Invalid nonce"),
        (
            {"Content_Type": FORM + "; charset=utf-8"},
            "API0019",
            "Content-Type header is not accepted",
        ),
        ({"Content_Type": None}, "API0019", "Content-Type header is not accepted"),
    ],
)
def test_each_bad_header_has_its_code(
    changes: dict[str, str | None], code: str, reason: str
) -> None:
    request = signed()
    error = rejected(**server_view(request, headers=with_headers(request, **changes)))
    assert (error.code, error.reason) == (code, reason)
    assert error.payload == {"status": "error", "reason": reason, "code": code}
    assert error.http_status == 403


def test_content_type_with_an_empty_body_is_api0020() -> None:
    request = signed(data={})
    headers = with_headers(request, Content_Type=FORM)
    error = rejected(**server_view(request, headers=headers))
    assert (error.code, error.reason) == ("API0020", "Content-Type header should not be present")


def test_a_signature_by_another_secret_is_api0005() -> None:
    request = signed()
    view = server_view(request, lookup_secret=lambda key: "another-secret")
    assert rejected(**view).code == "API0005"


@pytest.mark.parametrize("skew_s", [151, -151, 3600])
def test_timestamp_outside_150_seconds_is_api0017(skew_s: int) -> None:
    request = signed(now=T0 - skew_s * 1000)
    error = rejected(**server_view(request))
    assert (error.code, error.reason) == ("API0017", "X-Auth-Timestamp header is out of boundaries")


def test_a_replayed_nonce_is_api0004() -> None:
    request = signed()
    nonces = NonceStore()
    assert verify_request(**server_view(request, nonces=nonces)) == KEY
    error = rejected(**server_view(request, nonces=nonces, now_ms=T0 + 1_000))
    assert (error.code, error.reason) == ("API0004", "Invalid nonce")


def test_a_nonce_is_recorded_only_once_its_signature_verified() -> None:
    request = signed()
    nonces = NonceStore()
    forged = with_headers(request, X_Auth_Signature="f" * 64)
    assert rejected(**server_view(request, nonces=nonces, headers=forged)).code == "API0005"
    assert len(nonces) == 0
    assert verify_request(**server_view(request, nonces=nonces)) == KEY


# --- the nonce store ----------------------------------------------------------------------


def test_nonce_store_remembers_for_300_seconds_then_forgets() -> None:
    store = NonceStore()
    assert store.add(KEY, NONCE, T0) is True
    assert store.add(KEY, NONCE, T0 + NONCE_RETENTION_MS) is False
    assert store.seen(KEY, NONCE, T0 + NONCE_RETENTION_MS)
    assert not store.seen(KEY, NONCE, T0 + NONCE_RETENTION_MS + 1)
    assert store.add(KEY, NONCE, T0 + NONCE_RETENTION_MS + 1) is True


def test_nonce_store_is_per_key() -> None:
    store = NonceStore()
    assert store.add("alice", NONCE, T0)
    assert store.add("bob", NONCE, T0)
    assert not store.add("alice", NONCE, T0)


def test_nonce_store_memory_is_bounded_by_time() -> None:
    store = NonceStore()
    for i in range(10_000):  # one request every 100 ms for 1000 s
        assert store.add(KEY, f"nonce-{i}", T0 + i * 100)
    assert len(store) == NONCE_RETENTION_MS // 100 + 1
    assert not store.seen(KEY, "nonce-0", T0 + 10_000 * 100)


def test_nonce_store_refuses_a_retention_shorter_than_300_seconds() -> None:
    with pytest.raises(ValueError, match="at least 300000"):
        NonceStore(retention_ms=NONCE_RETENTION_MS - 1)


# --- response signature and the error type ------------------------------------------------


def test_the_server_signature_is_accepted_by_our_client() -> None:
    nonces = NonceStore()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(verify_request(**server_view(request, nonces=nonces, now_ms=T0)))
        body = b'{"usd_balance": "12.50"}'
        content_type = "application/json"
        sig = response_signature(
            SECRET,
            request.headers["X-Auth-Nonce"],
            request.headers["X-Auth-Timestamp"],
            content_type,
            body,
        )
        headers = {"Content-Type": content_type, "X-Server-Auth-Signature": sig}
        return httpx.Response(200, content=body, headers=headers)

    auth = BitstampAuth(SIM, clock=ServerClock(lambda: T0), require_response_signature=True)
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client:
        response = client.post(URL, data={"a": "1"})
    assert response.json() == {"usd_balance": "12.50"}
    assert seen == [KEY]


def test_response_signature_matches_the_documented_formula() -> None:
    body = b'{"status": "error", "reason": "Limit too large."}'
    message = (NONCE + str(T0) + "application/json").encode() + body
    expected = hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()
    assert response_signature(SECRET, NONCE, str(T0), "application/json", body) == expected


def test_auth_rejected_prints_and_pickles() -> None:
    error = AuthRejected("API0005")
    assert str(error) == "API0005: Invalid signature"
    assert repr(error) == "AuthRejected('API0005', 'Invalid signature')"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.reason) == ("API0005", "Invalid signature")
    assert AuthRejected("API0004", "custom").reason == "custom"


def test_every_code_in_the_brief_has_bitstamps_text() -> None:
    assert REASONS["API0001"] == "API key not found"
    assert REASONS["API0004"] == "Invalid nonce"
    assert REASONS["API0011"] == "Wrong API key format"
    assert {f"API00{n}" for n in range(12, 21)} <= REASONS.keys()


@pytest.mark.parametrize(
    "base", ["http://127.0.0.1:8765/api", "https://127.0.0.1:8765/api", "http://127.0.0.1/api"]
)
@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("account_balances/", {}),
        ("buy/{pair}/", {"pair": "btcusd", "amount": "0.01", "price": "1"}),
    ],
)
def test_accepts_what_the_real_ccxt_signs(base: str, path: str, params: dict[str, str]) -> None:
    """ccxt's own sign() (no network): the independent client the simulator must accept."""
    ccxt = pytest.importorskip("ccxt")
    exchange = ccxt.bitstamp({"apiKey": KEY, "secret": SECRET})
    exchange.urls["api"] = {"public": base, "private": base}
    sent = exchange.sign(path, ["private"], "POST", dict(params))
    url = httpx.URL(sent["url"])
    view = hand_view(
        sent["headers"],
        body=sent["body"].encode(),
        scheme=url.scheme,
        port=url.port or {"http": 80, "https": 443}[url.scheme],
        path=url.path,
        now_ms=int(sent["headers"]["X-Auth-Timestamp"]),
    )
    assert verify_request(**view) == KEY
