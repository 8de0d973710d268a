"""The Bitstamp v2 signature (reference 5.1, 5.2): the message a request signs, its HMAC, and
the signature a reply carries.

The one primitive both ends compute: the client signs with it (``auth``), the simulator
verifies with it (``workstation.sim.wire.auth``). Plain functions of strings and bytes, no
HTTP library, so the simulator imports nothing of the client's machinery to share them.
"""

from __future__ import annotations

import hashlib
import hmac

from .secret import Secret

__all__ = [
    "AUTH_VERSION",
    "FORM_CONTENT_TYPE",
    "response_signature",
    "signature",
    "string_to_sign",
]

AUTH_VERSION = "v2"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def string_to_sign(
    *,
    api_key: str,
    method: str,
    host: str,
    path: str,
    query: str,
    content_type: str,
    nonce: str,
    timestamp_ms: int | str,
    body: str,
) -> str:
    """The v2 message: plain concatenation in the documented order, no separators (5.1).

    ``query`` and ``content_type`` are inserted verbatim ("" when absent); ``timestamp_ms`` is
    inserted as its decimal string (a server passes the header text unchanged).
    """
    return (
        f"BITSTAMP {api_key}{method}{host}{path}{query}{content_type}"
        f"{nonce}{timestamp_ms}{AUTH_VERSION}{body}"
    )


def signature(secret: Secret | str, message: str | bytes) -> str:
    """Lowercase hex HMAC-SHA256 of ``message`` (str as UTF-8) keyed by the API secret (5.1).

    Bytes are accepted so a raw body can be appended to the encoded message unchanged. The
    client passes a `Secret`, revealed only inside the HMAC call (no local of any frame
    holds it as text); the simulator's demo secrets are plain strings.
    """
    data = message.encode("utf-8") if isinstance(message, str) else message
    return hmac.new(_key_bytes(secret), data, hashlib.sha256).hexdigest()


def _key_bytes(secret: Secret | str) -> bytes:
    return (secret.reveal() if isinstance(secret, Secret) else secret).encode("utf-8")


def response_signature(
    secret: Secret | str, nonce: str, timestamp: int | str, content_type: str, body: bytes
) -> str:
    """``X-Server-Auth-Signature``: HMAC(secret, nonce + timestamp + Content-Type + body) (5.2).

    Uses the *request's* nonce and timestamp and the response's Content-Type header value.
    """
    return signature(secret, f"{nonce}{timestamp}{content_type}".encode() + body)
