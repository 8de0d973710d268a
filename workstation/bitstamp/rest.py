"""The Bitstamp REST v2 client: one method per endpoint the workstation uses.

Every method returns domain objects (never JSON) and raises the typed errors of
:mod:`workstation.bitstamp.errors`. Transport rules (rate budget, coalescing, retries of safe
calls only, outcome-unknown submits) live in :mod:`workstation.bitstamp.transport`.

Order submissions take a ``client_order_id`` that the caller made and journaled before the
call: it is required, because it is the only way to find the order again when its reply is
lost (see ``OutcomeUnknown``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from ..domain.account import Balance, TradingFee, UserTransaction, WebsocketToken
from ..domain.common import Side
from ..domain.market_data import BookSnapshot, Candle, Ticker, Trade
from ..domain.markets import Market
from ..domain.order_vocabulary import OrderKind, TimeInForce
from . import account, market_data, markets
from .auth import Credentials, ServerClock
from .errors import OutcomeUnknown, ProtocolError
from .fields import checked_market
from .ratelimit import RateBudget
from .reststats import RestStats
from .transport import RetryPolicy, Transport

if TYPE_CHECKING:
    from ..domain.orders import (
        CancelAllResult,
        CancelResult,
        OpenOrder,
        OrderAck,
        OrderStatus,
        ReplaceResult,
    )
    from .orders import SubmitForm

# The order wire (``orders``: forms and replies) and the order domain are imported by the
# methods that use them: a start reads the market, places nothing, and those modules were
# ~10 ms of its imports. Trading imports them when it opens, before any order is sent.

__all__ = ["RestClient"]


@contextmanager
def _unreadable_is_unknown(client_order_id: str, path: str) -> Iterator[None]:
    """A submit answered 200 with a reply we cannot read (``{"status": "ok"}``): the exchange
    may hold the order, so its outcome is unknown and it is reconciled, never resent."""
    try:
        yield
    except ProtocolError as error:
        raise OutcomeUnknown(client_order_id, path, cause=error.message) from None


class RestClient:
    """Async REST v2 client for one environment (live, sandbox or a simulator)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @classmethod
    def for_url(
        cls,
        base_url: str,
        *,
        credentials: Credentials | None = None,
        budget: RateBudget | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float = 10.0,
        stats: RestStats | None = None,
    ) -> RestClient:
        """A client for ``base_url``; private calls are signed when credentials are given.
        Every reply's ``Date`` teaches one server clock, which the signer stamps with. The
        HTTP client and the signer are made with the first request (``Transport``)."""
        clock = ServerClock()
        transport = Transport(
            base_url,
            credentials=credentials,
            budget=budget,
            retry=retry,
            stats=stats,
            timeout_s=timeout_s,
            clock=clock,
        )
        return cls(transport)

    @property
    def server_clock(self) -> ServerClock | None:
        """The exchange's clock as learned from replies (None: this client does not learn it)."""
        return self.transport.clock

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def __aenter__(self) -> RestClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- public ---------------------------------------------------------------------------

    async def ticker(self, market: str) -> Ticker:
        body = await self.transport.get_public(f"/api/v2/ticker/{checked_market(market)}/")
        return market_data.parse_ticker(body, market)

    async def order_book(self, market: str, group: Literal[0, 1, 2] = 1) -> BookSnapshot:
        """The full-depth book. ``group=1`` aggregates per price (Bitstamp's default)."""
        params = {"group": str(group)} if group != 1 else None
        body = await self.transport.get_public(
            f"/api/v2/order_book/{checked_market(market)}/", params
        )
        return market_data.parse_order_book(body, market)

    async def transactions(
        self, market: str, time: Literal["minute", "hour", "day"] = "hour"
    ) -> list[Trade]:
        """Public trades of the last minute/hour/day, newest first."""
        path = f"/api/v2/transactions/{checked_market(market)}/"
        body = await self.transport.get_public(path, {"time": time})
        return market_data.parse_transactions(body, market)

    async def ohlc(
        self,
        market: str,
        *,
        step: int,
        limit: int,
        start: int | None = None,
        end: int | None = None,
    ) -> list[Candle]:
        params = {"step": str(step), "limit": str(limit)}
        if start is not None:
            params["start"] = str(start)
        if end is not None:
            params["end"] = str(end)
        body = await self.transport.get_public(f"/api/v2/ohlc/{checked_market(market)}/", params)
        return market_data.parse_ohlc(body)

    async def markets(self) -> list[Market]:
        """Market rules from ``/api/v2/markets/`` (the current endpoint)."""
        return markets.parse_markets(await self.transport.get_public("/api/v2/markets/"))

    async def trading_pairs_info(self) -> list[Market]:
        """Market rules from the legacy ``/api/v2/trading-pairs-info/``."""
        body = await self.transport.get_public("/api/v2/trading-pairs-info/")
        return markets.parse_trading_pairs_info(body)

    # -- private reads (safe to repeat) ---------------------------------------------------

    async def _read(self, path: str, data: Mapping[str, str] | None = None) -> bytes:
        return await self.transport.post_private(path, data, safe=True)

    async def account_balances(self) -> list[Balance]:
        return account.parse_account_balances(await self._read("/api/v2/account_balances/"))

    async def trading_fees(self, market: str | None = None) -> list[TradingFee]:
        path = (
            f"/api/v2/fees/trading/{checked_market(market)}/" if market else "/api/v2/fees/trading/"
        )
        return account.parse_trading_fees(await self._read(path))

    async def user_transactions(
        self,
        market: str | None = None,
        *,
        offset: int | None = None,
        limit: int | None = None,
        sort: Literal["asc", "desc"] | None = None,
        since_id: int | None = None,
        since_timestamp: int | None = None,
    ) -> list[UserTransaction]:
        data = {
            key: str(value)
            for key, value in (
                ("offset", offset),
                ("limit", limit),
                ("sort", sort),
                ("since_id", since_id),
                ("since_timestamp", since_timestamp),
            )
            if value is not None
        }
        path = "/api/v2/user_transactions/" + (f"{checked_market(market)}/" if market else "")
        return account.parse_user_transactions(await self._read(path, data))

    async def open_orders(self, market: str | None = None) -> list[OpenOrder]:
        """Open orders on one market, or on every market."""
        from . import orders

        path = (
            f"/api/v2/open_orders/{checked_market(market)}/"
            if market
            else "/api/v2/open_orders/all/"
        )
        return orders.parse_open_orders(await self._read(path))

    async def order_status(
        self,
        *,
        order_id: int | None = None,
        client_order_id: str | None = None,
        omit_transactions: bool = False,
    ) -> OrderStatus:
        """Look an order up by exchange id or by our ``client_order_id`` (reconciliation)."""
        from . import orders

        if (order_id is None) == (client_order_id is None):
            raise ValueError("give exactly one of order_id and client_order_id")
        data = {"id": str(order_id)} if order_id is not None else {}
        if client_order_id is not None:
            data["client_order_id"] = orders.checked_client_order_id(client_order_id)
        if omit_transactions:
            data["omit_transactions"] = "True"
        return orders.parse_order_status(await self._read("/api/v2/order_status/", data))

    async def websockets_token(self) -> WebsocketToken:
        """A short-lived token for private WebSocket channels; fetch a fresh one per use."""
        return account.parse_websockets_token(await self._read("/api/v2/websockets_token/"))

    # -- orders (never retried) -----------------------------------------------------------

    async def place(self, form: SubmitForm) -> OrderAck:
        """Post a buy or sell built by :func:`~workstation.bitstamp.orders.place_form`."""
        from . import orders

        path, cid = form.path, form.client_order_id
        body = await self.transport.post_private(
            path, dict(form.fields), safe=False, client_order_id=cid
        )
        with _unreadable_is_unknown(cid, path):
            return orders.parse_order_ack(body)

    async def place_limit(
        self,
        side: Side,
        market: str,
        *,
        amount: Decimal,
        price: Decimal,
        client_order_id: str,
        tif: TimeInForce = TimeInForce.GTC,
        expire_ms: int | None = None,
    ) -> OrderAck:
        """A limit order with its time in force (GTD with ``expire_ms``)."""
        from ..domain.order_request import OrderRequest
        from .orders import place_form

        request = OrderRequest(
            market, side, OrderKind.LIMIT, amount, price, tif=tif, expire_ms=expire_ms
        )
        return await self.place(place_form(request, client_order_id))

    async def place_market(
        self, side: Side, market: str, *, amount: Decimal, client_order_id: str
    ) -> OrderAck:
        """A market order; ``amount`` in the base currency."""
        from ..domain.order_request import OrderRequest
        from .orders import place_form

        request = OrderRequest(market, side, OrderKind.MARKET, amount)
        return await self.place(place_form(request, client_order_id))

    async def place_instant(
        self,
        side: Side,
        market: str,
        *,
        amount: Decimal,
        client_order_id: str,
        amount_in_counter: bool = False,
    ) -> OrderAck:
        """An instant order. A buy's ``amount`` is in the quote (counter) currency; a sell's is
        in the base currency unless ``amount_in_counter``."""
        from ..domain.order_request import OrderRequest
        from .orders import place_form

        request = OrderRequest(
            market, side, OrderKind.INSTANT, amount, amount_in_quote=amount_in_counter
        )
        return await self.place(place_form(request, client_order_id))

    async def cancel_order(
        self, *, order_id: int | None = None, client_order_id: str | None = None
    ) -> CancelResult:
        """Cancel one order. Not retried: on failure the tracker reconciles the true state."""
        from . import orders

        if (order_id is None) == (client_order_id is None):
            raise ValueError("give exactly one of order_id and client_order_id")
        data = (
            {"id": str(order_id)}
            if order_id is not None
            else {"client_order_id": orders.checked_client_order_id(client_order_id or "")}
        )
        body = await self.transport.post_private("/api/v2/cancel_order/", data, safe=False)
        return orders.parse_cancel(body)

    async def cancel_all_orders(self, market: str | None = None) -> CancelAllResult:
        from . import orders

        path = "/api/v2/cancel_all_orders/" + (f"{checked_market(market)}/" if market else "")
        body = await self.transport.post_private(path, None, safe=False)
        return orders.parse_cancel_all(body)

    async def replace(self, form: SubmitForm) -> ReplaceResult:
        """Post an amend built by :func:`~workstation.bitstamp.orders.replace_form`."""
        from . import orders

        path, cid = form.path, form.client_order_id
        body = await self.transport.post_private(
            path, dict(form.fields), safe=False, client_order_id=cid
        )
        with _unreadable_is_unknown(cid, path):
            return orders.parse_replace(body)

    async def replace_order(
        self,
        *,
        order_id: int | None = None,
        orig_client_order_id: str | None = None,
        amount: Decimal,
        price: Decimal,
        client_order_id: str,
    ) -> ReplaceResult:
        """Amend price or amount (cancel + new order in one call). Never retried."""
        from .orders import replace_form

        form = replace_form(
            order_id=order_id,
            orig_client_order_id=orig_client_order_id,
            amount=amount,
            price=price,
            client_order_id=client_order_id,
        )
        return await self.replace(form)
