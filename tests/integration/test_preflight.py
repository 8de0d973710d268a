"""``workstation preflight`` against the simulator over real loopback sockets: it passes on a
healthy one, and names each failure the simulator injects (clock skew, a wrong secret, a dead
stream, 429s); live places a test order only when asked and confirmed; the command prints
the list and exits 0 only when every check passed."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.secret import Secret
from workstation.services.check_result import CheckResult, Verdict
from workstation.services.journal import Journal
from workstation.services.preflight import OrderConfirm, PreflightOptions, run_preflight
from workstation.services.venue import Venue
from workstation.sim.exchange import SimExchange
from workstation.sim.faultplan import FaultPlan
from workstation.sim.server import SimServer

from .conftest import sim_process

CHECKS = [
    "exchange reachable",
    "clock skew",
    "signed read",
    "key permissions",
    "book stream",
    "private stream",
    "test order",
    "rate budget",
]
SIGNED = ("key permissions", "private stream", "test order")
ORDER_PATHS = ("POST /api/v2/buy/btcusd/", "POST /api/v2/sell/btcusd/")


@pytest.fixture
async def market() -> AsyncIterator[SimServer]:
    """A simulator whose market moves in real time (the book stream needs diff frames)."""
    async with SimServer(SimExchange(seed=3, speed=5)) as server:
        yield server


def venue_of(sim: SimServer, *, env: str = "sim", secret: str | None = None, **urls: str) -> Venue:
    demo = sim.exchange.demo
    return Venue(
        env,
        urls.get("rest_url", sim.rest_url),
        urls.get("ws_url", sim.ws_url),
        Secret(demo.api_key),
        Secret(secret or demo.secret),
    )


async def preflight(
    venue: Venue, journal: Path, *, wait_s: float = 10.0, **options: object
) -> dict[str, CheckResult]:
    told: list[CheckResult] = []
    results = await run_preflight(
        venue,
        PreflightOptions(journal_path=journal, stream_wait_s=wait_s, **options),
        on_result=told.append,
    )
    assert told == results  # each result is handed on as it is known
    assert [r.name for r in results] == CHECKS
    return {r.name: r for r in results}


def verdicts(results: dict[str, CheckResult]) -> dict[str, Verdict]:
    return {name: r.verdict for name, r in results.items()}


def failed(results: dict[str, CheckResult]) -> list[str]:
    return [name for name, r in results.items() if r.verdict is Verdict.FAIL]


def orders_sent(sim: SimServer) -> int:
    return sum(sim.requests[path] for path in ORDER_PATHS)


async def test_preflight_passes_on_the_simulator(market: SimServer, tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    results = await preflight(venue_of(market), journal)

    assert failed(results) == [], results
    assert set(verdicts(results).values()) == {Verdict.PASS}
    order = results["test order"].detail
    assert "post-only" in order
    assert "order_status says" in order
    assert "listed in open_orders" in order
    assert order.endswith("cancelled")
    assert orders_sent(market) == 1
    assert market.exchange.open_orders("demo", None) == []  # nothing left resting
    with Journal(journal) as read:
        assert read.open_orders("sim@" + market.rest_url.removeprefix("http://")) == []
        rows = list(read.raw_rows("orders"))
    assert len(rows) == 1  # journaled like any order, before it left


async def test_clock_skew_is_named_and_signed_requests_still_work(
    market: SimServer, tmp_path: Path
) -> None:
    market.faults.skew_clock(200_000)  # past Bitstamp's 150 s window
    results = await preflight(venue_of(market), tmp_path / "j.sqlite3")

    assert failed(results) == ["clock skew"]
    clock = results["clock skew"]
    assert "behind the exchange's" in clock.detail
    assert "API0017" in clock.detail
    assert "199." in clock.detail or "200." in clock.detail
    assert "timedatectl" in clock.fix


async def test_a_wrong_secret_fails_the_signed_read_and_skips_what_needs_it(
    market: SimServer, tmp_path: Path
) -> None:
    venue = venue_of(market, secret="0" * 32)
    results = await preflight(venue, tmp_path / "j.sqlite3", keys_fix="store the pair again")

    assert failed(results) == ["signed read"]
    signed = results["signed read"]
    assert "API0005" in signed.detail
    assert "secret" in signed.fix
    assert "store the pair again" in signed.fix
    assert "0" * 32 not in repr(results)
    assert {name: results[name].verdict for name in SIGNED} == dict.fromkeys(SIGNED, Verdict.SKIP)
    assert orders_sent(market) == 0


async def test_no_keys_fail_the_signed_read_with_the_way_to_store_them(
    market: SimServer, tmp_path: Path
) -> None:
    venue = Venue("sim", market.rest_url, market.ws_url)
    results = await preflight(venue, tmp_path / "j.sqlite3", keys_fix="run `keys set`")

    assert failed(results) == ["signed read"]
    assert results["signed read"].fix == "run `keys set`"
    assert results["book stream"].verdict is Verdict.PASS  # the public checks still run
    assert all(results[name].verdict is Verdict.SKIP for name in SIGNED)


async def test_a_stalled_stream_fails_the_book_stream(market: SimServer, tmp_path: Path) -> None:
    market.faults.stall("*")  # connected and acknowledged, but no frame ever comes
    results = await preflight(venue_of(market), tmp_path / "j.sqlite3", wait_s=2.0)

    assert failed(results) == ["book stream"]
    book = results["book stream"]
    assert "0 diff frames came in 2 s" in book.detail
    assert "STALE" in book.fix


async def test_a_stream_host_that_refuses_fails_both_streams(
    market: SimServer, tmp_path: Path
) -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        dead = f"ws://127.0.0.1:{closed.getsockname()[1]}/"
    results = await preflight(venue_of(market, ws_url=dead), tmp_path / "j.sqlite3", wait_s=2.0)

    assert failed(results) == ["book stream", "private stream"]
    assert f"no connection to {dead}" in results["book stream"].detail
    assert "over WebSocket" in results["book stream"].fix
    assert "token issued" in results["private stream"].detail
    assert "not acknowledged" in results["private stream"].detail


async def test_429s_fail_the_rate_budget(market: SimServer, tmp_path: Path) -> None:
    market.arm(FaultPlan(rate_limit_every=4, rate_limit_retry_after_s=0.1))
    results = await preflight(venue_of(market), tmp_path / "j.sqlite3")

    assert "rate budget" in failed(results)
    budget = results["rate budget"]
    assert "answered 429" in budget.detail
    assert "other programs" in budget.fix
    # reads are retried after the pause; only an order the 429 hit may fail beside it
    assert set(failed(results)) <= {"rate budget", "test order"}
    assert market.exchange.open_orders("demo", None) == []


async def test_an_unknown_pair_skips_what_needs_it_and_checks_the_rest(
    market: SimServer, tmp_path: Path
) -> None:
    results = await preflight(venue_of(market), tmp_path / "j.sqlite3", pair="nosuch")

    assert failed(results) == ["exchange reachable"]
    assert "lists no market 'nosuch'" in results["exchange reachable"].detail
    assert "btcusd" in results["exchange reachable"].fix
    for name in ("clock skew", "signed read", "key permissions", "rate budget"):
        assert results[name].verdict is Verdict.PASS, results[name]
    for name in ("book stream", "private stream", "test order"):
        assert results[name].detail == "skipped: no market 'nosuch'"
    assert orders_sent(market) == 0


async def test_an_exchange_that_does_not_answer_skips_everything_after_it(
    tmp_path: Path,
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    results = await preflight(Venue("sim", url, "ws" + url[4:] + "/"), tmp_path / "j.sqlite3")

    assert failed(results) == ["exchange reachable"]
    assert "ConnectError" in results["exchange reachable"].detail
    assert "check that this machine reaches 127.0.0.1:" in results["exchange reachable"].fix
    skipped = [name for name, r in results.items() if r.verdict is Verdict.SKIP]
    assert skipped == CHECKS[1:-1]


async def test_a_check_that_breaks_is_a_named_failure(market: SimServer, tmp_path: Path) -> None:
    """A journal that cannot be opened fails the test order (with the error, and logged),
    before anything is sent; the checks after it still run."""
    results = await preflight(venue_of(market), tmp_path)  # a directory, not a database

    assert failed(results) == ["test order"]
    assert "the check itself failed" in results["test order"].detail
    assert results["rate budget"].verdict is Verdict.PASS
    assert orders_sent(market) == 0


async def test_a_test_order_whose_reply_is_lost_is_still_found_and_cancelled(
    market: SimServer, tmp_path: Path
) -> None:
    market.arm(FaultPlan(drop_orders_every=1))  # placed, then the connection dropped
    results = await preflight(venue_of(market), tmp_path / "j.sqlite3")

    order = results["test order"]
    assert "cancelled" in order.detail, order
    assert orders_sent(market) == 1
    assert market.exchange.open_orders("demo", None) == []


async def test_live_places_no_order_unless_asked(market: SimServer, tmp_path: Path) -> None:
    venue = venue_of(market, env="live")  # the simulator standing in for Bitstamp
    results = await preflight(venue, tmp_path / "j.sqlite3", test_order=False)

    assert failed(results) == []
    assert results["test order"].verdict is Verdict.SKIP
    assert "only when asked" in results["test order"].detail
    assert orders_sent(market) == 0


async def test_live_places_the_order_only_once_confirmed(market: SimServer, tmp_path: Path) -> None:
    venue = venue_of(market, env="live")
    asked: list[str] = []

    def answering(answer: bool) -> OrderConfirm:
        async def confirm(terms: str) -> bool:
            asked.append(terms)
            return answer

        return confirm

    declined = await preflight(venue, tmp_path / "j.sqlite3", confirm_order=answering(False))
    assert declined["test order"].verdict is Verdict.SKIP
    assert "not confirmed" in declined["test order"].detail
    assert orders_sent(market) == 0

    confirmed = await preflight(venue, tmp_path / "j.sqlite3", confirm_order=answering(True))
    assert confirmed["test order"].verdict is Verdict.PASS
    assert orders_sent(market) == 1
    assert len(asked) == 2
    assert "buy" in asked[1]
    assert "BTC/USD" in asked[1]
    assert "below the best bid" in asked[1]


async def test_the_rest_client_learns_the_exchange_clock_from_public_replies(
    market: SimServer,
) -> None:
    """No key needed: every reply's Date teaches the clock the signer would stamp with."""
    market.faults.skew_clock(-60_000)
    async with RestClient.for_url(market.rest_url) as rest:
        clock = rest.server_clock
        assert clock is not None
        assert clock.dates_seen == 0
        await rest.markets()
    assert clock.dates_seen == 1
    assert abs(clock.offset_ms + 60_000) < 2_000


# -- the command ----------------------------------------------------------------------------


async def run_command(*args: str, key: str, secret: str, home: Path) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "BITSTAMP_API_KEY": key,
        "BITSTAMP_API_SECRET": secret,
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "workstation",
        "preflight",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    async with asyncio.timeout(90):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_command_prints_the_list_and_exits_0_only_when_all_pass(
    tmp_path: Path,
) -> None:
    key, secret = "preflightkey0001", "preflightsecret0001"
    async with sim_process("--seed", "3", "--api-key", key, "--api-secret", secret) as sim:
        url = sim.rest_base
        code, out, err = await run_command("--sim-url", url, key=key, secret=secret, home=tmp_path)
        assert (code, err) == (0, ""), out
        lines = out.splitlines()
        assert lines[0] == f"preflight of SIM at {url} (key …0001)"
        assert [line.split()[0] for line in lines[1:9]] == ["PASS"] * 8
        for line, name in zip(lines[1:9], CHECKS, strict=True):
            assert line.startswith(f"  PASS  {name}")
        assert lines[-1] == "all 8 checks passed"

        code, out, err = await run_command(
            "--sim-url", url, "--stream-wait", "3", key=key, secret="wrong" + secret, home=tmp_path
        )
    assert code == 1
    assert "  FAIL  signed read" in out
    assert "API0005" in out
    assert "fix: the exchange refused the signature" in out
    assert "BITSTAMP_API_SECRET" in out  # how to give the right pair
    assert "  SKIP  test order" in out
    assert "1 of 8 checks failed (3 skipped): signed read" in out
    assert secret not in out + err
    log = next((tmp_path / "state").rglob("workstation.log")).read_text()
    assert "/api/v2/account_balances/" in log
    assert secret not in log


async def test_the_command_without_a_venue_checks_the_embedded_simulator(
    tmp_path: Path,
) -> None:
    code, out, err = await run_command(key="", secret="", home=tmp_path)
    assert (code, err) == (0, ""), out
    assert out.startswith("preflight of SIM (embedded) at http://127.0.0.1:")
    assert out.endswith("all 8 checks passed\n")
