"""Bitstamp v2 signature verification, server side (reference 5.1, 5.2, 6, 8 item 5).

The simulator calls `verify_request` with plain values taken from its HTTP request, so this
module knows nothing of aiohttp. It is deliberately lenient about what real clients sign
differently and strict about everything Bitstamp itself enforces:

* lenient: the signed host may be ``{host}``, ``{host}:{port}``, ``{scheme}://{host}:{port}``
  or ``{scheme}://{host}`` (ccxt strips only a literal ``https://`` from the URL, so on an
  ``http://`` base it signs the scheme too, reference 9.1); the query may be signed with or
  without its leading ``?``; hex is compared case-insensitively (the official Java example
  upper-cases); keys and nonces need only be visible ASCII (real keys are 32 alphanumerics,
  real nonces 36-character uuid4s, but test clients use keys like ``testkey``).
* strict: every X-Auth header present, version ``v2``, timestamp within +-150 s, Content-Type
  exactly ``application/x-www-form-urlencoded`` with a body and absent without one, each nonce
  used once per key within `NONCE_RETENTION_MS` (300 s, the newer spec's figure; a nonce is
  only recorded once its signature verified, so garbage cannot burn a client's nonces).

Failures raise `AuthRejected` carrying Bitstamp's API00xx code and reason text (section 6);
the simulator answers them with HTTP 403 and `AuthRejected.payload`.
"""

from __future__ import annotations

import hmac
import re
from collections import deque
from collections.abc import Callable, Mapping

from ...bitstamp.signing import AUTH_VERSION, FORM_CONTENT_TYPE, signature, string_to_sign

__all__ = [
    "NONCE_RETENTION_MS",
    "REASONS",
    "TIMESTAMP_WINDOW_MS",
    "AuthRejected",
    "NonceStore",
    "verify_request",
]

TIMESTAMP_WINDOW_MS = 150_000
"""X-Auth-Timestamp may differ from server time by at most this much (API0017)."""

NONCE_RETENTION_MS = 300_000
"""How long a used nonce is remembered: twice the timestamp window, so a nonce cannot be
replayed with any timestamp that is still acceptable."""

REASONS: dict[str, str] = {
    "API0001": "API key not found",
    "API0004": "Invalid nonce",
    "API0005": "Invalid signature",
    "API0010": "Invalid version",
    "API0011": "Wrong API key format",
    "API0012": "X-Auth header is required",
    "API0013": "X-Auth-Signature header is required",
    "API0014": "X-Auth-Nonce header is required",
    "API0015": "X-Auth-Timestamp header is required",
    "API0016": "X-Auth-Version header is required",
    "API0017": "X-Auth-Timestamp header is out of boundaries",
    "API0018": "X-Auth-Timestamp header is invalid",
    "API0019": "Content-Type header is not accepted",
    "API0020": "Content-Type header should not be present",
    "API0021": "URL longer than 2000 chars",
}
"""Bitstamp's reason text for each API00xx code the simulator can produce (reference 6); all
but API0021, which the server checks before anything else, come from `verify_request`."""

_VISIBLE_ASCII = re.compile(r"[!-~]{1,128}")
_TIMESTAMP = re.compile(r"[0-9]{1,16}")
_REQUIRED_HEADERS = (
    ("x-auth", "API0012"),
    ("x-auth-signature", "API0013"),
    ("x-auth-nonce", "API0014"),
    ("x-auth-timestamp", "API0015"),
    ("x-auth-version", "API0016"),
)


class AuthRejected(Exception):  # noqa: N818 -- the name the simulator uses
    """A request failed authentication; ``code`` is Bitstamp's API00xx code."""

    http_status = 403

    def __init__(self, code: str, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason if reason is not None else REASONS[code]
        super().__init__(code, self.reason)

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"

    def __repr__(self) -> str:
        return f"AuthRejected({self.code!r}, {self.reason!r})"

    @property
    def payload(self) -> dict[str, str]:
        """The JSON body Bitstamp sends for this error (reference 6)."""
        return {"status": "error", "reason": self.reason, "code": self.code}


class NonceStore:
    """Nonces already used, per API key, forgotten ``retention_ms`` after first use.

    Memory stays bounded by time: every call evicts what has expired, oldest first. Callers
    pass the time in, so tests never wait.
    """

    def __init__(self, retention_ms: int = NONCE_RETENTION_MS) -> None:
        if retention_ms < NONCE_RETENTION_MS:
            raise ValueError(f"nonces must be remembered for at least {NONCE_RETENTION_MS} ms")
        self._retention_ms = retention_ms
        self._expiry: dict[tuple[str, str], int] = {}
        self._queue: deque[tuple[int, tuple[str, str]]] = deque()

    def __len__(self) -> int:
        return len(self._expiry)

    def seen(self, api_key: str, nonce: str, now_ms: int) -> bool:
        """Whether ``nonce`` was used by ``api_key`` within the retention period."""
        self._evict(now_ms)
        return (api_key, nonce) in self._expiry

    def add(self, api_key: str, nonce: str, now_ms: int) -> bool:
        """Record a use; False (and nothing recorded) if the nonce is already remembered.

        Check and record are one step, so two concurrent requests cannot both pass.
        """
        self._evict(now_ms)
        item = (api_key, nonce)
        if item in self._expiry:
            return False
        expiry = now_ms + self._retention_ms
        self._expiry[item] = expiry
        self._queue.append((expiry, item))
        return True

    def _evict(self, now_ms: int) -> None:
        queue = self._queue
        while queue and queue[0][0] < now_ms:
            _, item = queue.popleft()
            del self._expiry[item]


def _candidate_hosts(host: str, port: int | None, scheme: str) -> list[str]:
    bracketed = f"[{host}]" if ":" in host and not host.startswith("[") else host
    hosts = [bracketed]
    if port is not None:
        hosts += [f"{bracketed}:{port}", f"{scheme}://{bracketed}:{port}"]
    hosts.append(f"{scheme}://{bracketed}")
    return list(dict.fromkeys(hosts))


def _signature_matches(
    *,
    provided: str,
    secret: str,
    api_key: str,
    method: str,
    hosts: list[str],
    path: str,
    query: str,
    content_type: str,
    nonce: str,
    timestamp: str,
    body: bytes,
) -> bool:
    query = query.removeprefix("?")
    queries = [query, f"?{query}"] if query else [""]
    wanted = provided.strip().lower().encode("utf-8", "replace")
    matched = False
    for signed_host in hosts:
        for signed_query in queries:
            message = string_to_sign(
                api_key=api_key,
                method=method,
                host=signed_host,
                path=path,
                query=signed_query,
                content_type=content_type,
                nonce=nonce,
                timestamp_ms=timestamp,
                body="",
            )
            expected = signature(secret, message.encode("utf-8") + body)
            # No early exit: the work done does not depend on which candidate matched.
            matched |= hmac.compare_digest(expected.encode("ascii"), wanted)
    return matched


def verify_request(
    *,
    method: str,
    host: str,
    port: int | None,
    scheme: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    lookup_secret: Callable[[str], str | None],
    nonces: NonceStore,
    now_ms: int,
) -> str:
    """Check a v2-signed request; returns its API key, or raises `AuthRejected`.

    Args:
        method: the request method as received (``"POST"``).
        host, port, scheme: the host name the client addressed (no port), the port it
            connected to (None if unknown), and ``"http"``/``"https"``.
        path, query: the raw request target split at ``?`` (query without the ``?``, "" if
            none), exactly as on the wire (not percent-decoded).
        headers: request headers; names are matched case-insensitively.
        body: the raw body bytes.
        lookup_secret: API key -> secret, or None for an unknown key (API0001).
        nonces: the store remembering used nonces; updated only on success.
        now_ms: the server's time in epoch milliseconds.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    values: dict[str, str] = {}
    for name, code in _REQUIRED_HEADERS:
        value = lowered.get(name, "").strip()
        if not value:
            raise AuthRejected(code)
        values[name] = value
    if values["x-auth-version"] != AUTH_VERSION:
        raise AuthRejected("API0010")
    word, _, api_key = values["x-auth"].partition(" ")
    if word != "BITSTAMP" or not _VISIBLE_ASCII.fullmatch(api_key):
        raise AuthRejected("API0011")
    timestamp = values["x-auth-timestamp"]
    if not _TIMESTAMP.fullmatch(timestamp):
        raise AuthRejected("API0018")
    if abs(int(timestamp) - now_ms) > TIMESTAMP_WINDOW_MS:
        raise AuthRejected("API0017")
    content_type = lowered.get("content-type", "").strip()
    if body and content_type != FORM_CONTENT_TYPE:
        raise AuthRejected("API0019")
    if not body and content_type:
        raise AuthRejected("API0020")
    secret = lookup_secret(api_key)
    if secret is None:
        raise AuthRejected("API0001")
    nonce = values["x-auth-nonce"]
    if not _VISIBLE_ASCII.fullmatch(nonce):
        raise AuthRejected("API0004")
    if not _signature_matches(
        provided=values["x-auth-signature"],
        secret=secret,
        api_key=api_key,
        method=method,
        hosts=_candidate_hosts(host, port, scheme),
        path=path,
        query=query,
        content_type=content_type,
        nonce=nonce,
        timestamp=timestamp,
        body=body,
    ):
        raise AuthRejected("API0005")
    if not nonces.add(api_key, nonce, now_ms):
        raise AuthRejected("API0004")
    return api_key
