"""``probe_key`` reads what the exchange answers, one signed read per permission.

The simulator grants every permission, so refusals come from a small server on 127.0.0.1
that answers as Bitstamp does (reference 6): API0003 "No permission found" on the reads the
key may not make, a 500 where nothing can be told, and the real signed reads elsewhere are
plain JSON bodies of the documented shapes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from workstation.bitstamp.auth import Credentials
from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.secret import Secret
from workstation.bitstamp.transport import RetryPolicy
from workstation.services.key_probe import ProbeOutcome, probe_key

KEY, SECRET = "ProbeKey0123456789ABCD", "ProbeSecret0123456789abcdef"
NO_PERMISSION = {"status": "error", "reason": "No permission found", "code": "API0003"}
REPLIES = {
    "/api/v2/account_balances/": (200, [
        {"currency": "usd", "total": "1.00", "available": "1.00", "reserved": "0.00"}
    ]),
    "/api/v2/open_orders/all/": (403, NO_PERMISSION),
    "/api/v2/user_transactions/": (500, {"status": "error", "reason": "Internal error"}),
    "/api/v2/fees/trading/": (200, []),
    "/api/v2/websockets_token/": (403, NO_PERMISSION),
}  # fmt: skip


@pytest.fixture
async def exchange() -> AsyncIterator[str]:
    async def answer(request: web.Request) -> web.Response:
        status, body = REPLIES.get(request.path, (404, {"error": "Not found"}))
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_post("/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_each_read_is_answered_refused_or_unknown(exchange: str) -> None:
    port = int(exchange.rpartition(":")[2])
    credentials = Credentials(Secret(KEY), Secret(SECRET), "live", "127.0.0.1", port)
    retry = RetryPolicy(attempts=1)
    async with RestClient.for_url(exchange, credentials=credentials, retry=retry) as rest:
        report = await probe_key(rest)
    outcomes = [(p.endpoint, p.outcome) for p in report.probes]
    assert outcomes == [
        ("/api/v2/account_balances/", ProbeOutcome.ANSWERED),
        ("/api/v2/open_orders/all/", ProbeOutcome.REFUSED),
        ("/api/v2/user_transactions/", ProbeOutcome.UNKNOWN),
        ("/api/v2/fees/trading/", ProbeOutcome.ANSWERED),
        ("/api/v2/websockets_token/", ProbeOutcome.REFUSED),
    ]
    assert "API0003" in report.probes[1].detail
    assert report.key_refused is None
    assert report.works
