"""The REST client's TLS: the CA bundle only where TLS is used.

Loading httpx's default CA bundle costs 30-60 ms of CPU at every start (issue 16's cold
start); a simulator on plain http never uses it. The context it gets instead must refuse any
certificate, so a plain-http venue can never quietly become an unverified https one.
"""

from __future__ import annotations

import ssl

import httpx

from workstation.bitstamp.transport import Transport, _tls_for


def test_a_plain_http_venue_gets_a_context_that_trusts_no_certificate() -> None:
    context = _tls_for("http://127.0.0.1:8765")
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0


def test_an_https_venue_keeps_the_default_verification() -> None:
    assert _tls_for("https://www.bitstamp.net") is True


async def test_both_transports_are_made() -> None:
    for url in ("http://127.0.0.1:8765", "https://www.bitstamp.net"):
        transport = Transport(url)
        assert isinstance(transport._client(), httpx.AsyncClient)
        await transport.aclose()
