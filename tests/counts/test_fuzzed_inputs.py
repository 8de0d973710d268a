"""At least 50,000 mutated WebSocket frames and REST bodies through the client's codecs and
feeds, and generated order ticket inputs through the ticket's checks (issue 16, counts): zero
unhandled exceptions.

Frames go through ``parse_frame`` (a :class:`FrameError` is a clean refusal) and then, as
the stream's consumers get them, to the market hub's router (``MarketHub._route``: the book
feeds of every market, their resyncs by REST from a real simulator) and the private feed's
handler (``PrivateFeed._handle``: confirmations and discoveries by REST, run to the end).
Bodies go through ``classify`` (the error rules) and every REST parser; a
:class:`BitstampError` (``ProtocolError``, ``PayloadError``...) is a clean refusal. Anything
else raised, logged with a traceback by a background task, or left unretrieved in a task, is
a failure, reported with the seed and the mutant.

The seeds are the recorded real traffic when ``../shared/fixtures/bitstamp`` is there, else
the simulator's own (``fuzz_corpus``); the summary line names the corpus. Seeded: the same
mutants every run.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES
from tests.integration.trading_support import FAST
from workstation.bitstamp import account, market_data, markets, orders
from workstation.bitstamp.auth import Credentials
from workstation.bitstamp.error_rules import classify
from workstation.bitstamp.errors import BitstampError
from workstation.bitstamp.ratelimit import RateBudget
from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.secret import Secret
from workstation.bitstamp.stream import FrameRejected, StreamClient
from workstation.bitstamp.stream_frames import FrameError, parse_frame
from workstation.domain.common import Side
from workstation.domain.market_data import BookSnapshot
from workstation.domain.order_vocabulary import OrderKind, TimeInForce
from workstation.domain.ticket import Funds, TicketInput, evaluate
from workstation.services.hub import MarketHub
from workstation.services.journal import Journal
from workstation.services.order_tracker import OrderTracker
from workstation.services.private_feed import PrivateFeed
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer

from .conftest import scaled
from .fuzz_corpus import Seed, mutate, recorded_seeds, sim_seeds
from .tally import Count

FRAMES_AND_BODIES = 50_000
TICKET_INPUTS = 10_000
SEED = 16
YIELD_EVERY = 200
"""Mutants between two turns of the event loop (the hub's resyncs and the private feed's
confirmations run then), as a stream pump yields between bursts."""

_BODY_PARSERS: tuple[tuple[str, Callable[[bytes], object]], ...] = (
    ("ticker", lambda b: market_data.parse_ticker(b, "btcusd")),
    ("tickers", market_data.parse_tickers),
    ("order_book", lambda b: market_data.parse_order_book(b, "btcusd")),
    ("transactions", lambda b: market_data.parse_transactions(b, "btcusd")),
    ("ohlc", market_data.parse_ohlc),
    ("markets", markets.parse_markets),
    ("trading_pairs_info", markets.parse_trading_pairs_info),
    ("account_balances", account.parse_account_balances),
    ("legacy_balance", account.parse_legacy_balance),
    ("trading_fees", account.parse_trading_fees),
    ("websockets_token", account.parse_websockets_token),
    ("user_transactions", account.parse_user_transactions),
    ("open_orders", orders.parse_open_orders),
    ("order_status", orders.parse_order_status),
    ("order_ack", orders.parse_order_ack),
    ("cancel", orders.parse_cancel),
    ("cancel_all", orders.parse_cancel_all),
    ("replace", orders.parse_replace),
)


@dataclass
class Failures:
    """Every unclean outcome: where, what was raised, and the input (cut short)."""

    seen: list[str] = field(default_factory=list)

    def add(self, where: str, error: BaseException | str, payload: bytes | str = b"") -> None:
        what = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        self.seen.append(f"{where}: {what[:300]} <- {payload[:200]!r}")


class _Tracebacks(logging.Handler):
    """Log records that carry an exception other than the venue's clean refusals."""

    def __init__(self, failures: Failures) -> None:
        super().__init__(logging.ERROR)
        self.failures = failures

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and not isinstance(error, BitstampError):
            self.failures.add(f"logged by {record.name}", error)


@dataclass
class Consumers:
    hub: MarketHub
    private: PrivateFeed
    book: BookSnapshot


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    exchange = SimExchange(seed=7, speed=2, history_s=60)  # moving: the corpus gets its frames
    async with SimServer(exchange, rate_limits=None) as server:
        yield server


@pytest.fixture
async def consumers(sim: SimServer, journal_dir: Path) -> AsyncIterator[Consumers]:
    """The hub (every market watched, not connected: frames are handed to its router) and the
    private feed (its tracker's REST calls answered by the simulator)."""
    demo = sim.exchange.demo
    credentials = Credentials(Secret(demo.api_key), Secret(demo.secret), "sim", sim.host)
    budget = RateBudget(per_second=100_000, per_window=10**9)
    rest = RestClient.for_url(sim.rest_url, credentials=credentials, budget=budget, timeout_s=5)
    stream = StreamClient(sim.ws_url, token_provider=rest.websockets_token)
    hub = MarketHub(rest, stream, dict(sim.exchange.markets), ticker_every_s=3600)
    with Journal(journal_dir / "journal.sqlite3") as journal:
        tracker = OrderTracker(rest, journal, "sim", policy=FAST)
        private = PrivateFeed(
            StreamClient(sim.ws_url, token_provider=rest.websockets_token), tracker
        )
        for symbol in sim.exchange.markets:
            await hub.watch(symbol)
        book = await rest.order_book("btcusd")
        try:
            yield Consumers(hub, private, book)
        finally:
            await private.close()
            await hub.close()
            await rest.aclose()


def read_frame(consumers: Consumers, frame: bytes, failures: Failures) -> bool:
    """One frame through the parser and the stream's consumers; whether it parsed."""
    try:
        event: Any = parse_frame(frame)
    except FrameError as error:
        event = FrameRejected(str(error), error.channel)
    except Exception as error:  # noqa: BLE001 - the count's point: name it, go on
        failures.add("parse_frame", error, frame)
        return False
    for name, handle in (("hub", consumers.hub._route), ("private", consumers.private._handle)):
        try:
            handle(event)
        except Exception as error:  # noqa: BLE001 - the count's point: name it, go on
            failures.add(f"{name} on {type(event).__name__}", error, frame)
    return not isinstance(event, FrameRejected)


def read_body(seed: Seed, body: bytes, failures: Failures) -> bool:
    """One body through the error rules and, when they pass it, every parser; whether a
    parser took it."""
    try:
        error = classify(
            status=seed.status, headers=seed.headers, body=body, endpoint=seed.endpoint
        )
    except Exception as exc:  # noqa: BLE001 - the count's point: name it, go on
        failures.add("classify", exc, body)
        return False
    if error is not None:
        return False
    took = False
    for name, parse in _BODY_PARSERS:
        try:
            parse(body)
        except BitstampError:
            continue
        except Exception as exc:  # noqa: BLE001 - the count's point: name it, go on
            failures.add(f"parse {name}", exc, body)
        else:
            took = True
    return took


async def test_fuzzed_frames_and_bodies_raise_nothing_unhandled(
    sim: SimServer, consumers: Consumers, count: Callable[[str, int], Count]
) -> None:
    if FIXTURES.is_dir():
        seeds, corpus = recorded_seeds(FIXTURES), "recorded"
    else:
        seeds, corpus = await sim_seeds(sim), "simulator"
    target = scaled(FRAMES_AND_BODIES)
    fuzzed = count("fuzzed frames and bodies", target)
    fuzzed.note = f"corpus: {corpus}, {len(seeds)} seeds"
    failures = Failures()
    handler = _Tracebacks(failures)
    logging.getLogger("workstation").addHandler(handler)
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(
        lambda _, context: failures.add("asyncio", context.get("exception") or context["message"])
    )
    rng = random.Random(SEED)
    taken = 0
    try:
        for seed in seeds:  # every seed as it is first: the real thing must read cleanly
            if seed.kind == "frame":
                read_frame(consumers, seed.text, failures)
            else:
                read_body(seed, seed.text, failures)
        while fuzzed.done < target:
            seed, other = rng.choice(seeds), rng.choice(seeds)
            mutant = mutate(rng, seed, other)
            if seed.kind == "frame":
                taken += read_frame(consumers, mutant, failures)
            else:
                taken += read_body(seed, mutant, failures)
            fuzzed.done += 1
            if fuzzed.done % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        for _ in range(100):  # let the resyncs and confirmations the mutants asked for end
            pending = [
                t for t in (*consumers.hub._tasks, *consumers.private._tasks) if not t.done()
            ]
            if not pending:
                break
            await asyncio.wait(pending, timeout=0.1)
        gc.collect()  # a task's exception nobody retrieved is reported when it is collected
    finally:
        logging.getLogger("workstation").removeHandler(handler)
        loop.set_exception_handler(None)
    assert failures.seen == [], "\n".join(failures.seen[:20])
    assert taken > target // 20, f"only {taken} mutants were read as valid: mutations too rough"
    fuzzed.note += f", {taken:,} still read as valid"


# -- the order ticket ------------------------------------------------------------------------

_TYPED = (
    "", " ", "0", "1", "0.01", "-1", "1e3", "1E-9", "max", "MAX", "25%", "100%", "0%", "250%",
    "1.5 %", "%", "+5m", "+1h", "+9999d", "+0m", "2030-01-01", "1,5", "1_000", "NaN", "inf",
    "١٢", "0x10", "9" * 400, "0." + "0" * 300 + "1", "1." + "1" * 200, "\x00", "💥", "-0",
    ".", "..", "1.2.3", "  7  ",
)  # fmt: skip


def typed(rng: random.Random) -> str:
    """What a trader (or a cat on the keyboard) may have typed in a field."""
    roll = rng.random()
    if roll < 0.4:
        return rng.choice(_TYPED)
    if roll < 0.7:
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 30)))
        point = rng.randint(0, len(digits))
        return digits[:point] + rng.choice((".", "", "%", "e", " ")) + digits[point:]
    alphabet = "0123456789.,-+%eE mhdaxMAX\u0660\u00a0"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))


def funds(rng: random.Random) -> Funds:
    def amount() -> Decimal | None:
        return rng.choice((None, Decimal(0), Decimal("0.5"), Decimal("1e30"), Decimal("12.34")))

    return Funds(base=amount(), quote=amount())


async def test_generated_ticket_inputs_raise_nothing(
    sim: SimServer, consumers: Consumers, count: Callable[[str, int], Count]
) -> None:
    target = scaled(TICKET_INPUTS)
    tickets = count("ticket inputs", target)
    rng = random.Random(SEED)
    market_list = list(sim.exchange.markets.values())
    failures = Failures()
    valid = 0
    for _ in range(target):
        side, kind = rng.choice(list(Side)), rng.choice(list(OrderKind))
        ticket = TicketInput(
            market=rng.choice(market_list),
            side=side,
            kind=kind,
            amount=typed(rng),
            price=typed(rng),
            tif=rng.choice(list(TimeInForce)),
            expiry=typed(rng),
            # The screen offers "in quote" for instant sells only (ui/screens/ticket.py).
            amount_in_quote=kind is OrderKind.INSTANT and side is Side.SELL and rng.random() < 0.5,
        )
        book = rng.choice((consumers.book, None))
        # A fee is the exchange's (parsed, checked): a percentage in [0, 100).
        fee = rng.choice((None, Decimal(0), Decimal("0.4"), Decimal("99.99")))
        try:
            check = evaluate(
                ticket, book=book, funds=funds(rng), fee_percent=fee, now_ms=1_765_000_000_000
            )
        except Exception as error:  # noqa: BLE001 - the count's point: name it, go on
            failures.add("evaluate", error, repr(ticket))
        else:
            valid += check.request is not None
        tickets.done += 1
    assert failures.seen == [], "\n".join(failures.seen[:20])
    tickets.note = f"{valid:,} made an order"
