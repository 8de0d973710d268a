"""The pre-launch checklist: is this venue, with this key, fit to trade on right now?

Each check is one small coroutine that returns a :class:`CheckResult` (pass, fail or skip,
what was seen, and for a failure what to do about it). They run in order on one
:class:`~.session.Session`, so every request shares the environment's rate budget and is
counted in its ``RestStats``, exactly as in the app:

1. the REST host answers and lists the pair;
2. this machine's clock against the exchange's (the ``Date`` of its replies);
3. a signed read with the key (``account_balances``);
4. what the key may read (open orders, transactions, fees); the API says nothing about
   trading or withdrawal rights short of trying;
5. the book stream: subscribed, a REST snapshot, then diff frames applied on it, by the same
   :class:`~.hub.MarketHub` the app uses (:mod:`.stream_checks`);
6. the private stream: a ``websockets_token``, accepted by the stream for the account's
   order channel;
7. a test order (:mod:`.probe_order`): the pair's minimum, post-only, far from the touch,
   journaled like any order, found by its ``client_order_id`` and cancelled (only when
   asked for: the caller decides, and may ask the trader to confirm);
8. the rate budget: no request of this run answered 429.

A check that needs an earlier one (the order needs a working signed read) is skipped with
the reason. Nothing here prints: the caller gets each result as it is known.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import msgspec

from ..bitstamp.errors import (
    AuthenticationError,
    BitstampError,
    ExchangeUnavailable,
    PermissionDenied,
    RateLimited,
    TimestampOutOfWindow,
    TransportError,
)
from ..bitstamp.secret import Secret
from ..domain.markets import Market
from ..domain.numbers import plain
from ..domain.order_vocabulary import TrackState
from ..domain.tracked_order import TrackedOrder
from .check_result import CheckResult, Verdict, said
from .journal import Journal
from .order_tracker import OrderTracker
from .probe_order import probe_order_terms
from .reachability import host_of
from .refusals import CancelFailed, SubmitsBlocked
from .session import Session
from .stream_checks import STREAM_WAIT_S, check_book_stream, check_private_stream
from .venue import Venue

__all__ = ["MAX_CLOCK_SKEW_MS", "OrderConfirm", "PreflightOptions", "run_preflight"]

MAX_CLOCK_SKEW_MS = 2_000
"""How far this machine's clock may be from the exchange's. The ``Date`` header has 1 s
resolution, so less cannot be told apart; signed requests are corrected for any offset, but
what is shown and stamped locally (trade ages, GTD expiries, the journal) is not."""
TIMESTAMP_WINDOW_MS = 150_000
"""Bitstamp refuses a signed request stamped further than this from its clock (API0017)."""
_NEEDS_SIGNED = "skipped: needs a signed read that works (above)"
_NEEDS_REST = "skipped: needs the exchange to answer (above)"
_NOT_ASKED = "skipped: on live a test order is placed only when asked for"
_log = logging.getLogger(__name__)


OrderConfirm = Callable[[str], Awaitable[bool]]
"""Asked with the test order in words before it is placed; False places nothing."""


class PreflightOptions(msgspec.Struct, frozen=True):
    """What to check with.

    Attributes:
        journal_path: where the test order is journaled, like any order (so the app would
            reconcile it if this run died with it open).
        pair: the market the streams and the test order use.
        test_order: place the test order (the caller's choice: on live only when asked).
        confirm_order: asked before the test order leaves; None places it without asking.
        stream_wait_s: how long each stream gets.
        keys_fix: what to do when the venue has no keys (the caller knows the command).
    """

    journal_path: Path
    pair: str = "btcusd"
    test_order: bool = True
    confirm_order: OrderConfirm | None = None
    stream_wait_s: float = STREAM_WAIT_S
    keys_fix: str = "give the workstation an API key pair for this venue"


async def run_preflight(
    venue: Venue,
    options: PreflightOptions,
    *,
    on_result: Callable[[CheckResult], object] | None = None,
) -> list[CheckResult]:
    """Run the checklist on ``venue``; every result is also handed to ``on_result`` as soon
    as it is known (a run takes seconds: the streams are given time)."""
    results: list[CheckResult] = []

    def told(result: CheckResult) -> CheckResult:
        results.append(result)
        if on_result is not None:
            on_result(result)
        return result

    async with Session(venue) as session:
        checks = _Checks(session, options)
        told(await _guarded("exchange reachable", checks.reachable))
        if checks.markets is None:
            for name in _AFTER_REACHABLE:
                told(CheckResult(name, Verdict.SKIP, _NEEDS_REST))
            told(await _guarded("rate budget", checks.rate_budget))
            return results
        no_market = None if checks.market is not None else f"skipped: no market {options.pair!r}"
        told(await _guarded("clock skew", checks.clock))
        signed = told(await _guarded("signed read", checks.signed_read))
        no_signed = None if signed.verdict is Verdict.PASS else _NEEDS_SIGNED
        told(await _guarded("key permissions", checks.permissions, skip=no_signed))
        told(await _guarded("book stream", checks.book_stream, skip=no_market))
        told(await _guarded("private stream", checks.private_stream, skip=no_signed or no_market))
        if options.test_order:
            told(await _guarded("test order", checks.probe_order, skip=no_signed or no_market))
        else:
            told(CheckResult("test order", Verdict.SKIP, _NOT_ASKED))
        told(await _guarded("rate budget", checks.rate_budget))
    return results


async def _guarded(
    name: str,
    check: Callable[[], Awaitable[CheckResult] | CheckResult],
    *,
    skip: str | None = None,
) -> CheckResult:
    """Run one check, or say why it is skipped (``skip``: what it needs failed). A check
    that breaks (a bug, a journal that cannot be written) is a failed check, logged with
    its traceback."""
    if skip is not None:
        return CheckResult(name, Verdict.SKIP, skip)
    try:
        result = check()
        return await result if inspect.isawaitable(result) else result
    except Exception as exc:  # noqa: BLE001 - shown as a failure, logged in full
        _log.exception("preflight: the %s check broke", name)
        return CheckResult(
            name,
            Verdict.FAIL,
            f"the check itself failed: {type(exc).__name__}: {exc}",
            "see the log for the traceback; run preflight again",
        )


_AFTER_REACHABLE = (
    "clock skew",
    "signed read",
    "key permissions",
    "book stream",
    "private stream",
    "test order",
)


class _Checks:
    """The checks of one run, on one session; ``markets`` once the first check loaded them."""

    def __init__(self, session: Session, options: PreflightOptions) -> None:
        self.session = session
        self.venue = session.venue
        self.rest = session.rest
        self.options = options
        self.markets: dict[str, Market] | None = None
        """The venue's markets, once it listed them."""
        self.market: Market | None = None
        """The pair checked, when the venue has it."""
        self.available: dict[str, Decimal] | None = None
        """Funds available by lowercase currency, once the signed read listed them."""

    # -- 1. reachable -----------------------------------------------------------------------

    async def reachable(self) -> CheckResult:
        name, host = "exchange reachable", host_of(self.venue.rest_url)
        started = time.perf_counter()
        try:
            markets = {m.symbol: m for m in await self.rest.markets()}
        except BitstampError as exc:
            return CheckResult(
                name,
                Verdict.FAIL,
                f"{host} did not list its markets: {said(exc)}",
                f"check that this machine reaches {host} (network, proxy, firewall, DNS); "
                "if the exchange is down, wait and run preflight again",
            )
        took_ms = (time.perf_counter() - started) * 1000
        self.markets = markets
        pair = self.options.pair
        self.market = market = markets.get(pair)
        if market is None:
            return CheckResult(
                name,
                Verdict.FAIL,
                f"{host} answered, but lists no market {pair!r}",
                f"choose one of its pairs, e.g. {', '.join(sorted(markets)[:5])}",
            )
        trading = "trading enabled" if market.trading_enabled else "trading DISABLED"
        detail = (
            f"{host} answered in {took_ms:.0f} ms; {len(markets)} markets, {market.name} {trading}"
        )
        if not market.trading_enabled:
            return CheckResult(
                name,
                Verdict.FAIL,
                detail,
                f"{market.name} takes no orders now; choose another pair",
            )
        return CheckResult(name, Verdict.PASS, detail)

    # -- 2. clock ---------------------------------------------------------------------------

    def clock(self) -> CheckResult:
        name = "clock skew"
        clock = self.rest.server_clock
        if clock is None or clock.dates_seen == 0:
            return CheckResult(
                name,
                Verdict.FAIL,
                "the exchange's replies carried no Date header: its clock is unknown",
                "a proxy between here and the exchange may strip it; try without the proxy",
            )
        offset = clock.offset_ms
        seconds = f"{abs(offset) / 1000:.1f} s"
        if abs(offset) <= MAX_CLOCK_SKEW_MS:
            return CheckResult(
                name, Verdict.PASS, f"within {seconds} of the exchange's clock (Date header)"
            )
        way = "behind" if offset > 0 else "ahead of"
        risk = (
            f"; past Bitstamp's {TIMESTAMP_WINDOW_MS // 1000} s window an uncorrected signed "
            "request is refused (API0017)"
            if abs(offset) > TIMESTAMP_WINDOW_MS
            else ""
        )
        return CheckResult(
            name,
            Verdict.FAIL,
            f"this machine's clock is {seconds} {way} the exchange's (limit "
            f"{MAX_CLOCK_SKEW_MS / 1000:g} s){risk}",
            "sync the system clock: `timedatectl set-ntp true` (or `sudo chronyc makestep`); "
            "signed requests are corrected for the offset, but times shown, GTD expiries and "
            "the journal use this clock",
        )

    # -- 3. signed read ---------------------------------------------------------------------

    async def signed_read(self) -> CheckResult:
        name = "signed read"
        if not self.venue.has_credentials:
            return CheckResult(
                name, Verdict.FAIL, f"no API keys for {self.venue.env}", self.options.keys_fix
            )
        try:
            balances = await self.rest.account_balances()
        except BitstampError as exc:
            return CheckResult(
                name, Verdict.FAIL, f"account_balances: {said(exc)}", self._key_fix(exc)
            )
        self.available = {b.currency.lower(): b.available for b in balances}
        funded = sum(1 for b in balances if b.total > 0)
        return CheckResult(
            name,
            Verdict.PASS,
            f"account_balances answered with the key {_tail(self.venue.api_key)}: "
            f"{len(balances)} currencies, {funded} with funds",
        )

    def _key_fix(self, exc: BitstampError) -> str:
        """What to do about a signed request the exchange refused."""
        env = self.venue.env
        if isinstance(exc, TimestampOutOfWindow):
            return "sync the system clock (`timedatectl set-ntp true`) and try again"
        if isinstance(exc, PermissionDenied):
            return "allow this read for the key in Bitstamp's API access settings"
        if isinstance(exc, RateLimited):
            return "the key's request budget is spent; stop other programs using it, or wait"
        if isinstance(exc, TransportError | ExchangeUnavailable):
            return "the exchange did not answer; check the network and run preflight again"
        code = exc.code or ""
        if code == "API0001":
            return (
                f"the exchange does not know this key: is it a {env} key (sandbox and live "
                f"keys differ)? {self.options.keys_fix}"
            )
        if code == "API0002":
            return "add this machine's public IP address to the key's allowed IPs on Bitstamp"
        if code == "API0006":
            return "the account is frozen: contact Bitstamp support"
        if isinstance(exc, AuthenticationError):
            return (
                "the exchange refused the signature: the stored secret does not belong to "
                f"this key; {self.options.keys_fix}"
            )
        return "see the log for the request; run preflight again"

    # -- 4. what the key may do -------------------------------------------------------------

    async def permissions(self) -> CheckResult:
        name = "key permissions"
        pair = self.options.pair
        reads: dict[str, Callable[[], Awaitable[object]]] = {
            "open orders": self.rest.open_orders,
            "transactions": lambda: self.rest.user_transactions(limit=1),
            "fees": lambda: self.rest.trading_fees(pair if self.market else None),
        }
        allowed, denied, failed = ["balances"], [], []
        for what, read in reads.items():
            try:
                await read()
            except PermissionDenied:
                denied.append(what)
            except BitstampError as exc:
                failed.append(f"{what}: {said(exc)}")
            else:
                allowed.append(what)
        detail = f"may read {_listed(allowed)}"
        untold = "the API does not say whether it may trade or withdraw"
        if failed:
            return CheckResult(
                name,
                Verdict.FAIL,
                f"{detail}; failed: {'; '.join(failed)}",
                "run preflight again; if it persists, see the log for the requests",
            )
        if denied:
            return CheckResult(
                name,
                Verdict.FAIL,
                f"{detail}; may NOT read {_listed(denied)}",
                f"allow {_listed(denied)} for this key in Bitstamp's API access settings: "
                "the app reads them to follow your orders",
            )
        tries = " (the test order tries)" if self.options.test_order else ""
        return CheckResult(name, Verdict.PASS, f"{detail}; {untold}{tries}")

    # -- 5. book stream, 6. private stream ---------------------------------------------------

    async def book_stream(self) -> CheckResult:
        assert self.market is not None
        return await check_book_stream(
            self.rest, self.venue, self.market, self.options.stream_wait_s
        )

    async def private_stream(self) -> CheckResult:
        return await check_private_stream(
            self.rest, self.venue, self.options.pair, self._key_fix, self.options.stream_wait_s
        )

    # -- 7. test order ----------------------------------------------------------------------

    async def probe_order(self) -> CheckResult:
        name = "test order"
        market = self.market
        assert market is not None
        try:
            book = await self.rest.order_book(market.symbol)
        except BitstampError as exc:
            return CheckResult(
                name, Verdict.FAIL, f"no book to price it on: {said(exc)}", "run preflight again"
            )
        probe = probe_order_terms(market, book, self.available)
        if probe is None:
            return CheckResult(
                name, Verdict.FAIL, f"{market.name}'s book is empty", "try another pair"
            )
        terms = probe.terms()
        confirm = self.options.confirm_order
        if confirm is not None and not await confirm(terms):
            return CheckResult(name, Verdict.SKIP, "skipped: not confirmed, nothing placed")
        request = probe.request
        with Journal(self.options.journal_path) as journal:
            tracker = OrderTracker(self.rest, journal, self.venue.journal_env)
            limited = self.session.rest_stats.rate_limited
            try:
                await tracker.reconcile_open()
                order = await tracker.submit(request, preview={"preflight": terms})
            except (BitstampError, SubmitsBlocked) as exc:
                return CheckResult(
                    name,
                    Verdict.FAIL,
                    f"not placed: {said(exc)}",
                    "the journaled open orders could not be reconciled; open the app to "
                    "see them, then run preflight again",
                )
            if (
                order.state is TrackState.REJECTED
                and self.session.rest_stats.rate_limited > limited
            ):
                return CheckResult(
                    name,
                    Verdict.FAIL,
                    f"refused: {order.reason}",
                    "the exchange answered 429 (see the rate budget below): run preflight "
                    "again once the budget has room",
                )
            return await self._find_and_cancel(tracker, order, terms)

    async def _find_and_cancel(
        self, tracker: OrderTracker, order: TrackedOrder, terms: str
    ) -> CheckResult:
        name, cid = "test order", order.client_order_id
        if order.state is TrackState.REJECTED:
            return CheckResult(
                name,
                Verdict.FAIL,
                f"refused: {order.reason}",
                "check the key may place orders (Bitstamp's API access settings) and that "
                f"the account has the funds available for: {terms}",
            )
        if order.state.is_final:  # post-only refused to rest, or (never) traded at once
            return CheckResult(
                name,
                Verdict.FAIL,
                f"{terms}: ended {order.state.value} at once "
                f"({order.reason or 'no reason given'}), client_order_id {cid}",
                "the book moved through the test price; run preflight again",
            )
        found: list[str] = []
        problems: list[str] = []
        if order.state is TrackState.UNKNOWN:
            problems.append(f"no trustworthy answer to the order ({order.reason or 'unknown'})")
        else:
            try:
                await self._look_up(order, found, problems)
            except Exception as exc:  # noqa: BLE001 - logged and shown, after the cancel below
                _log.exception("preflight: looking up the test order %s broke", cid)
                problems.append(f"looking it up broke: {type(exc).__name__}: {exc}")
        placed = f"order {order.order_id}" if order.order_id else f"client_order_id {cid}"
        try:
            cancelled = await tracker.cancel(cid)
        except CancelFailed as exc:
            return CheckResult(
                name,
                Verdict.FAIL,
                f"{terms}: sent as {placed}, but the cancel failed: {exc}",
                f"cancel {placed} now, in the app or on the exchange's website",
            )
        if cancelled.state is not TrackState.CANCELLED or cancelled.filled:
            problems.append(f"ended {cancelled.state.value}, {plain(cancelled.filled)} filled")
        detail = (
            f"{terms}: order {cancelled.order_id} (client_order_id {cid}) "
            f"{', '.join(found) or 'not found'}; cancelled"
        )
        if problems:
            return CheckResult(
                name,
                Verdict.FAIL,
                f"{detail}; {'; '.join(problems)}",
                "the app relies on finding orders by client_order_id: see the log, and "
                "check the order in the app",
            )
        return CheckResult(name, Verdict.PASS, detail)

    async def _look_up(self, order: TrackedOrder, found: list[str], problems: list[str]) -> None:
        """Find the order by its ``client_order_id`` (``order_status``) and in the list of
        open orders, as the app's reconciliation does."""
        cid = order.client_order_id
        try:
            status = await self.rest.order_status(client_order_id=cid, omit_transactions=True)
            found.append(f"order_status says {status.state.value}")
        except BitstampError as exc:
            problems.append(f"order_status by client_order_id: {said(exc)}")
        try:
            listed = await self.rest.open_orders(order.market)
        except BitstampError as exc:
            problems.append(f"open_orders: {said(exc)}")
        else:
            if any(o.client_order_id == cid or o.order_id == order.order_id for o in listed):
                found.append("listed in open_orders")
            else:
                problems.append("not listed in open_orders")

    # -- 8. rate budget ---------------------------------------------------------------------

    def rate_budget(self) -> CheckResult:
        name = "rate budget"
        budget, limited = self.session.budget, self.session.rest_stats.rate_limited
        used = budget.used_in_window
        window = f"{budget.per_window:,} per {budget.window_s / 60:g} min"
        if limited:
            return CheckResult(
                name,
                Verdict.FAIL,
                f"{_requests(limited)} of this run answered 429 (too many requests), of "
                f"{used} sent (budget {budget.per_second}/s, {window})",
                "something else spends this key's or this address's budget: stop other "
                "programs using the key, or wait 10 minutes and run preflight again",
            )
        return CheckResult(
            name,
            Verdict.PASS,
            f"no 429 in {_requests(used)} (budget {budget.per_second}/s, {window}); the "
            "exchange does not say what other programs spend",
        )


def _requests(count: int) -> str:
    return f"{count} request" if count == 1 else f"{count} requests"


def _tail(api_key: Secret | None) -> str:
    return api_key.tail() if api_key is not None else "…"


def _listed(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
