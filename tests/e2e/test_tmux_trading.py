"""Orders typed with the keys in the real app, in tmux, attached to a standalone
``workstation sim`` with ``--sim-url``: an order reaches the simulator exactly once, with the
typed amount and price, and the Enter that sends it does nothing else. Skipped where tmux is
not installed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.test_tmux import WORKSTATION, Tmux, wait_for
from tests.integration.conftest import sim_process
from workstation.bitstamp.auth import Credentials
from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.secret import Secret

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

KEY, SECRET = "e2etradingkey" + "0" * 19, "e2etradingsecret" + "1" * 16


async def _rest(base: str) -> RestClient:
    credentials = Credentials(key=Secret(KEY), secret=Secret(SECRET), env="sim", host="127.0.0.1")
    return RestClient.for_url(base, credentials=credentials)


async def test_an_order_typed_in_tmux_reaches_the_simulator_once(tmp_path: Path) -> None:
    assert WORKSTATION.exists(), f"{WORKSTATION} (the console script) is not installed"
    flags = ("--seed", "3", "--speed", "0", "--api-key", KEY, "--api-secret", SECRET)
    async with sim_process(*flags) as sim:
        rest = await _rest(sim.rest_base)
        async with rest:
            book = await rest.order_book("btcusd")
            price = book.bids[0][0] - 25  # rests below the touch: nothing fills it
            tmux = Tmux()
            done = tmp_path / "exit-status"
            env = (
                f"BITSTAMP_API_KEY={KEY} BITSTAMP_API_SECRET={SECRET} TERM=xterm-256color "
                "COLUMNS=120 LINES=40"  # as in test_tmux.py
            )
            journal = tmp_path / "journal.sqlite3"
            command = (
                f"{env} {WORKSTATION} --sim-url {sim.rest_base} --journal {journal}; "
                f"echo $? > {done}"
            )
            try:
                tmux.run("new-session", "-d", "-x", "120", "-y", "40", command)
                tmux.run("resize-window", "-x", "120", "-y", "40")
                await asyncio.to_thread(
                    wait_for,
                    lambda: "Balances" in tmux.screen() and "USD" in tmux.screen(),
                    40,
                    "the app with balances",
                )
                await asyncio.sleep(1.0)  # open orders reconciled: submits allowed
                tmux.run("send-keys", "b")
                await asyncio.to_thread(
                    wait_for, lambda: "BUY BTC/USD" in tmux.screen(), 10, "ticket"
                )
                # one burst, as a fast typist over SSH sends it: Tab must move the focus
                # before the price that follows it is read
                tmux.run(
                    "send-keys", "-l", "0.01", ";", "send-keys", "Tab", ";",
                    "send-keys", "-l", f"{price:.2f}",
                )  # fmt: skip
                rests = lambda: "rests 0.01 BTC" in tmux.screen()  # noqa: E731
                await asyncio.to_thread(wait_for, rests, 10, "the preview", tmux.screen)
                tmux.run("send-keys", "Enter")
                await asyncio.to_thread(wait_for, lambda: "SEND?" in tmux.screen(), 10, "confirm")
                tmux.run("send-keys", "y")
                await asyncio.to_thread(
                    wait_for,
                    lambda: "open" in tmux.screen() and "1 live" in tmux.screen(),
                    20,
                    "the order in open orders",
                )
                orders = await rest.open_orders()
                assert [(o.amount, o.price) for o in orders] == [(Decimal("0.01"), price)]
                tmux.run("send-keys", "q")
                await asyncio.to_thread(wait_for, done.exists, 15, "the app to exit")
                assert done.read_text().strip() == "0"
                await asyncio.sleep(0.5)
                assert [o.client_order_id for o in await rest.open_orders()] == [
                    orders[0].client_order_id
                ]  # still exactly one: nothing was resent on the way out
            finally:
                tmux.kill()
    assert not os.environ.get("BITSTAMP_API_SECRET")  # the test never leaked it into its env


@contextlib.asynccontextmanager
async def _app_in_tmux(tmp_path: Path) -> AsyncIterator[tuple[Tmux, RestClient, Decimal]]:
    """The app in tmux against a still standalone simulator, with balances shown; yields the
    tmux, a REST client of the same account and a buy price that rests below the touch."""
    assert WORKSTATION.exists(), f"{WORKSTATION} (the console script) is not installed"
    flags = ("--seed", "3", "--speed", "0", "--api-key", KEY, "--api-secret", SECRET)
    async with sim_process(*flags) as sim:
        rest = await _rest(sim.rest_base)
        async with rest:
            book = await rest.order_book("btcusd")
            tmux = Tmux()
            env = (
                f"BITSTAMP_API_KEY={KEY} BITSTAMP_API_SECRET={SECRET} TERM=xterm-256color "
                "COLUMNS=120 LINES=40"
            )
            journal = tmp_path / "journal.sqlite3"
            command = f"{env} {WORKSTATION} --sim-url {sim.rest_base} --journal {journal}"
            try:
                tmux.run("new-session", "-d", "-x", "120", "-y", "40", command)
                tmux.run("resize-window", "-x", "120", "-y", "40")
                await asyncio.to_thread(
                    wait_for,
                    lambda: "Balances" in tmux.screen() and "USD" in tmux.screen(),
                    40,
                    "the app with balances",
                )
                await asyncio.sleep(1.0)  # open orders reconciled: submits allowed
                yield tmux, rest, book.bids[0][0] - 25
            finally:
                tmux.kill()


def _ticket_shown(screen: str) -> bool:
    return any(f"{side} BTC/USD \u00b7" in screen for side in ("BUY", "SELL", "AMEND"))


async def test_the_enter_that_sends_does_nothing_else(tmp_path: Path) -> None:
    """b, 0.001, Tab, a price, Enter, Enter, o: one order, no ticket; then c cancels it
    (before, the second Enter also opened a ticket at the book cursor, which took o and c)."""
    async with _app_in_tmux(tmp_path) as (tmux, rest, price):
        tmux.run("send-keys", "Up")  # the book cursor on the best ask
        tmux.run("send-keys", "b")
        await asyncio.to_thread(wait_for, lambda: "BUY BTC/USD" in tmux.screen(), 10, "ticket")
        tmux.run(
            "send-keys", "-l", "0.001", ";", "send-keys", "Tab", ";",
            "send-keys", "-l", f"{price:.2f}",
        )  # fmt: skip
        rests = lambda: "rests 0.001 BTC" in tmux.screen()  # noqa: E731
        await asyncio.to_thread(wait_for, rests, 10, "the preview", tmux.screen)
        tmux.run("send-keys", "Enter")
        await asyncio.to_thread(wait_for, lambda: "SEND?" in tmux.screen(), 10, "confirm")
        tmux.run("send-keys", "Enter")
        closed = lambda: "SEND?" not in tmux.screen()  # noqa: E731
        await asyncio.to_thread(wait_for, closed, 10, "the ticket to close", tmux.screen)
        tmux.run("send-keys", "o")
        listed = lambda: "1 live" in tmux.screen()  # noqa: E731
        await asyncio.to_thread(wait_for, listed, 20, "the order in open orders", tmux.screen)
        await asyncio.sleep(0.5)  # anything the keys opened is on screen by now
        assert not _ticket_shown(tmux.screen()), tmux.screen()
        orders = await rest.open_orders()
        assert [(o.amount, o.price) for o in orders] == [(Decimal("0.001"), price)]

        tmux.run("send-keys", "c")  # in the open orders: cancels, types nowhere
        for _ in range(50):
            if not await rest.open_orders():
                break
            await asyncio.sleep(0.2)
        assert await rest.open_orders() == []
        screen = tmux.screen()
        assert not _ticket_shown(screen), screen
        assert "Amount BTC" not in screen  # before: "Amount BTC oc" in a new ticket


async def test_the_kill_switch_key_reaches_the_app_through_tmux(tmp_path: Path) -> None:
    """ctrl+k in a real terminal (tmux): the confirm, Enter, every order gone from the
    simulator and each one listed as cancelled."""
    async with _app_in_tmux(tmp_path) as (tmux, rest, price):
        for step in (0, 1):
            await rest.transport.post_private(
                "/api/v2/buy/btcusd/",
                {"amount": "0.01", "price": f"{price - step:.2f}"},
                safe=False,
            )
        await asyncio.to_thread(
            wait_for, lambda: "2 live" in tmux.screen(), 20, "both orders listed", tmux.screen
        )
        tmux.run("send-keys", "C-k")
        question = "Cancel 2 open orders on 1 pair (BTC/USD 2)?"
        await asyncio.to_thread(wait_for, lambda: question in tmux.screen(), 10, "the confirm")
        tmux.run("send-keys", "Enter")
        await asyncio.to_thread(
            wait_for,
            lambda: "2 cancelled, 0 already gone, 0 failed" in tmux.screen(),
            20,
            "the outcome",
            tmux.screen,
        )
        assert tmux.screen().count("(placed elsewhere)") == 2
        assert await rest.open_orders() == []
