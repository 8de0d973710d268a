"""REST v2 routes of the simulator: request parsing in, wire encoders out.

Every path is served with and without its trailing slash (cryptofeed asks for
``/api/v2/order_book/btcusd`` without one). Unknown markets fall through to the HTML 404 that
Bitstamp's CDN serves. Private handlers run after the auth middleware put ``user`` on the
request. What the exchange does lives in :mod:`workstation.sim.exchange`; what the bodies look
like lives in the encoders of :mod:`workstation.sim.wire`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from ..domain.common import Side
from ..domain.markets import Market
from .catalog import CURRENCY_DECIMALS
from .digits import read_digits
from .exchange import SimExchange
from .httpreply import json_body_reply, json_reply
from .orderform import TRUE, OrderForm, SimRejection
from .wire.account import (
    encode_account_balances,
    encode_trading_fees,
    encode_user_transactions,
    encode_websockets_token,
)
from .wire.error_bodies import error_body
from .wire.market_data import encode_ohlc, encode_order_book, encode_ticker
from .wire.markets import encode_markets, encode_trading_pairs_info
from .wire.orders import (
    encode_cancel,
    encode_cancel_all,
    encode_open_orders,
    encode_order_ack,
    encode_order_status,
    encode_replace,
)

__all__ = ["USER", "add_routes"]

USER = web.RequestKey("user", str)
"""The ledger owner of an authenticated request, set by the server's auth middleware."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_TRANSACTION_WINDOWS = {"minute": 60, "hour": 3600, "day": 86400}
_NOT_UTF8 = "Request body is not valid UTF-8."
"""The refusal of a form body that does not decode (a decision: Bitstamp's is unrecorded)."""
_OHLC_STEPS = {60, 180, 300, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400, 259200}


def add_routes(app: web.Application, exchange: SimExchange) -> None:
    routes = _Routes(exchange)
    table: list[tuple[str, str, Handler]] = [
        ("GET", "ticker/{market}", routes.ticker),
        ("GET", "ticker", routes.tickers),
        ("GET", "order_book/{market}", routes.order_book),
        ("GET", "transactions/{market}", routes.transactions),
        ("GET", "ohlc/{market}", routes.ohlc),
        ("GET", "markets", routes.markets),
        ("GET", "trading-pairs-info", routes.trading_pairs_info),
        ("POST", "account_balances", routes.balances),
        ("POST", "account_balances/{currency}", routes.balance),
        ("POST", "fees/trading", routes.fees),
        ("POST", "fees/trading/{market}", routes.fees),
        ("POST", "user_transactions", routes.user_transactions),
        ("POST", "user_transactions/{market}", routes.user_transactions),
        ("POST", "open_orders/all", routes.open_orders),
        ("POST", "open_orders", routes.open_orders),
        ("POST", "open_orders/{market}", routes.open_orders),
        ("POST", "order_status", routes.order_status),
        ("POST", "cancel_order", routes.cancel_order),
        ("POST", "cancel_all_orders", routes.cancel_all),
        ("POST", "cancel_all_orders/{market}", routes.cancel_all),
        ("POST", "replace_order", routes.replace_order),
        ("POST", "websockets_token", routes.websockets_token),
        ("POST", "{side:buy|sell}/market/{market}", routes.place_market),
        ("POST", "{side:buy|sell}/instant/{market}", routes.place_instant),
        ("POST", "{side:buy|sell}/{market}", routes.place_limit),
    ]
    for method, path, handler in table:
        guarded = _answering_rejections(handler)
        app.router.add_route(method, f"/api/v2/{path}/", guarded)
        app.router.add_route(method, f"/api/v2/{path}", guarded)


def _rejection(exc: SimRejection) -> web.Response:
    return json_reply(exc.body, exc.status)


class _Routes:
    def __init__(self, exchange: SimExchange) -> None:
        self.ex = exchange

    def market(self, request: web.Request) -> Market:
        market = self.ex.markets.get(request.match_info["market"])
        if market is None:
            raise web.HTTPNotFound()
        return market

    # -- public -----------------------------------------------------------------------------

    async def ticker(self, request: web.Request) -> web.Response:
        if request.query_string:
            return json_reply(error_body("Invalid GET parameter.", response_code="400.018"), 400)
        m = self.market(request)
        await self.ex.history_ready(m.symbol)
        return json_reply(
            encode_ticker(self.ex.ticker(m.symbol), m.base_decimals, m.quote_decimals)
        )

    async def tickers(self, request: web.Request) -> web.Response:
        for symbol in self.ex.markets:
            await self.ex.history_ready(symbol)
        rows = [
            encode_ticker(
                self.ex.ticker(m.symbol), m.base_decimals, m.quote_decimals, market_name=m.name
            )
            for m in self.ex.markets.values()
        ]
        return json_reply(rows)

    async def order_book(self, request: web.Request) -> web.Response:
        m = self.market(request)
        group_text = request.query.get("group", "1")
        if group_text not in ("0", "1", "2"):
            return json_reply(error_body("Invalid GET parameter."), 400)
        group = int(group_text)
        snapshot = self.ex.book(m.symbol, with_orders=group != 1)
        return json_reply(encode_order_book(snapshot, m.base_decimals, m.quote_decimals, group))

    async def transactions(self, request: web.Request) -> web.Response:
        m = self.market(request)
        window = _TRANSACTION_WINDOWS.get(request.query.get("time", "hour"))
        if window is None:
            return json_reply(error_body({"time": ["Not a valid choice."]}), 400)
        return json_body_reply(await self.ex.transactions_body(m.symbol, window))

    async def ohlc(self, request: web.Request) -> web.Response:
        m = self.market(request)
        query = request.query
        problems: dict[str, list[str]] = {}
        step = _int_field(query.get("step"), "step", problems, required=True)
        limit = _int_field(query.get("limit"), "limit", problems, required=True)
        start = _int_field(query.get("start"), "start", problems)
        end = _int_field(query.get("end"), "end", problems)
        if step is not None and step not in _OHLC_STEPS:
            problems.setdefault("step", []).append("Not a valid choice.")
        if limit is not None and not 1 <= limit <= 1000:
            problems.setdefault("limit", []).append("Must be between 1 and 1000.")
        if problems or step is None or limit is None:
            return json_reply(error_body(problems), 400)
        await self.ex.history_ready(m.symbol)
        candles = self.ex.candles(m.symbol, step=step, limit=limit, start=start, end=end)
        return json_reply(encode_ohlc(m.name, candles, m.base_decimals, m.quote_decimals))

    async def markets(self, request: web.Request) -> web.Response:
        return json_reply(encode_markets(list(self.ex.markets.values())))

    async def trading_pairs_info(self, request: web.Request) -> web.Response:
        return json_reply(encode_trading_pairs_info(list(self.ex.markets.values())))

    # -- private reads ----------------------------------------------------------------------

    async def balances(self, request: web.Request) -> web.Response:
        rows = self.ex.balances(request[USER])
        return json_reply(encode_account_balances(rows, CURRENCY_DECIMALS))

    async def balance(self, request: web.Request) -> web.Response:
        currency = request.match_info["currency"].lower()
        rows = [b for b in self.ex.balances(request[USER]) if b.currency == currency]
        if not rows:
            raise web.HTTPNotFound()
        return json_reply(encode_account_balances(rows, CURRENCY_DECIMALS)[0])

    async def fees(self, request: web.Request) -> web.Response:
        form = await _form(request)
        symbol = request.match_info.get("market") or form.get("market_symbol")
        if isinstance(symbol, str) and symbol not in self.ex.markets:
            raise web.HTTPNotFound()
        fees = self.ex.fees(request[USER], symbol if isinstance(symbol, str) else None)
        rows = encode_trading_fees(fees)
        return json_reply(rows[0] if "market" in request.match_info else rows)

    async def user_transactions(self, request: web.Request) -> web.Response:
        form = await _form(request)
        symbol = request.match_info.get("market")
        if symbol is not None and symbol not in self.ex.markets:
            raise web.HTTPNotFound()
        problems: dict[str, list[str]] = {}
        offset = _int_field(form.get("offset"), "offset", problems) or 0
        limit = _int_field(form.get("limit"), "limit", problems) or 100
        since_id = _int_field(form.get("since_id"), "since_id", problems)
        since_ts = _int_field(form.get("since_timestamp"), "since_timestamp", problems)
        sort = form.get("sort", "desc")
        if problems:
            return json_reply(error_body(problems))
        if limit > 1000:
            return json_reply(error_body("Limit too large."))  # HTTP 200, as recorded
        if sort not in ("asc", "desc"):
            return json_reply(error_body("Invalid sort parameter"))
        rows = self.ex.user_transactions(
            request[USER],
            symbol,
            offset=offset,
            limit=1000 if since_id is not None else limit,
            descending=sort == "desc",
            since_id=since_id,
            since_timestamp=since_ts,
        )
        currencies = [b.currency for b in self.ex.balances(request[USER])]
        return json_reply(encode_user_transactions(rows, currencies, CURRENCY_DECIMALS))

    async def open_orders(self, request: web.Request) -> web.Response:
        symbol = request.match_info.get("market")
        if symbol is not None and symbol not in self.ex.markets:
            raise web.HTTPNotFound()
        listed = self.ex.open_orders(request[USER], symbol)
        decimals = {s: (m.base_decimals, m.quote_decimals) for s, m in self.ex.markets.items()}
        return json_reply(encode_open_orders(listed, all_markets=symbol is None, decimals=decimals))

    async def order_status(self, request: web.Request) -> web.Response:
        form = await _form(request)
        status = self.ex.order_status(
            request[USER],
            order_id=_form_str(form, "id"),
            client_order_id=_form_str(form, "client_order_id"),
            omit_transactions=form.get("omit_transactions") in TRUE,
        )
        m = self.ex.markets[status.market]
        return json_reply(
            encode_order_status(
                status, base_decimals=m.base_decimals, quote_decimals=m.quote_decimals
            )
        )

    async def websockets_token(self, request: web.Request) -> web.Response:
        token = self.ex.issue_ws_token(request[USER])
        return json_reply(encode_websockets_token(token))

    # -- orders -----------------------------------------------------------------------------

    async def _place(self, request: web.Request, kind: str) -> web.Response:
        m = self.market(request)
        form = await _form(request)
        order = OrderForm(
            kind=kind,
            side=Side(request.match_info["side"]),
            market=m.symbol,
            fields={k: v for k, v in form.items() if isinstance(v, str)},
        )
        ack = self.ex.place(request[USER], order)
        return json_reply(
            encode_order_ack(ack, base_decimals=m.base_decimals, quote_decimals=m.quote_decimals)
        )

    async def place_limit(self, request: web.Request) -> web.Response:
        return await self._place(request, "limit")

    async def place_market(self, request: web.Request) -> web.Response:
        return await self._place(request, "market")

    async def place_instant(self, request: web.Request) -> web.Response:
        return await self._place(request, "instant")

    async def cancel_order(self, request: web.Request) -> web.Response:
        form = await _form(request)
        result = self.ex.cancel(
            request[USER],
            order_id=_form_str(form, "id"),
            client_order_id=_form_str(form, "client_order_id"),
        )
        return json_reply(encode_cancel(result))

    async def cancel_all(self, request: web.Request) -> web.Response:
        symbol = request.match_info.get("market")
        if symbol is not None and symbol not in self.ex.markets:
            raise web.HTTPNotFound()
        result = self.ex.cancel_all(request[USER], symbol)
        return json_reply(encode_cancel_all(result))

    async def replace_order(self, request: web.Request) -> web.Response:
        form = await _form(request)
        result = self.ex.replace(
            request[USER], {k: v for k, v in form.items() if isinstance(v, str)}
        )
        return json_reply(encode_replace(result))


async def _form(request: web.Request) -> Mapping[str, object]:
    """The form body, read strictly: a body that is not UTF-8 is refused with Bitstamp's
    error body (HTTP 400) instead of failing in the decoder."""
    try:
        return await request.post()
    except (UnicodeDecodeError, LookupError):
        raise SimRejection(error_body({"__all__": [_NOT_UTF8]}), 400) from None


def _answering_rejections(handler: Handler) -> Handler:
    """``handler``, with any SimRejection it raises answered as the JSON Bitstamp sends."""

    async def answer(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except SimRejection as exc:
            return _rejection(exc)

    return answer


def _form_str(form: object, name: str) -> str | None:
    value = form.get(name) if hasattr(form, "get") else None
    return value if isinstance(value, str) and value != "" else None


def _int_field(
    value: object, name: str, problems: dict[str, list[str]], *, required: bool = False
) -> int | None:
    if value is None or value == "":
        if required:
            problems.setdefault(name, []).append("Missing data for required field.")
        return None
    number = read_digits(value)
    if number is None:
        problems.setdefault(name, []).append("Not a valid integer.")
    return number
