"""The simulator's REST bodies have the keys and JSON types of recorded Bitstamp traffic.

A real SimServer on 127.0.0.1 runs the scripted session of ``sim_session.py``; each body it
answers is compared by shape (``shapes.py``: keys at every depth, the JSON type of every
value) with the real replies in the fixtures (``recorded`` fixture; skipped without them):
ticker, order book, trading-pairs-info, user transactions, the HTTP-200 validation error and
the HTML 404; and its balance and ledger amounts are held to the recorded padding.
Endpoints no recording covers are in ``test_sim_documented_shapes.py``, frames in
``test_sim_stream_shapes.py``.

Each deliberate difference is in an explicit allow-list with its reason.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from .shapes import Shape, assert_same, differences, shape, union
from .sim_session import Reply, rest_session, small_sim


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sim_rest() -> AsyncIterator[dict[str, Reply]]:
    async with small_sim() as sim:
        yield await rest_session(sim)


# --- recorded traffic --------------------------------------------------------------------


def _capture(recorded: Path, name: str) -> Reply:
    """A georlav raw HTTP capture: status line, headers, blank line, body."""
    raw = (recorded / "georlav" / name).read_text().replace("\r\n", "\n")
    head, _, body = raw.partition("\n\n")
    status_line, *header_lines = head.splitlines()
    headers = {}
    for line in header_lines:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return Reply(int(status_line.split()[1]), headers, body.strip())


def _cryptofeed(recorded: Path, name: str) -> list[Any]:
    """The ``<url> -> <time>: <json>`` lines of a cryptofeed REST capture, decoded (the
    ``configuration:`` line cryptofeed appends is not a response)."""
    lines = (recorded / "cryptofeed" / name).read_text().splitlines()
    return [json.loads(line.split(": ", 1)[1]) for line in lines if " -> " in line]


# Keys Bitstamp added after the 2021 ticker recording (reference 3.1: ``side`` 2023-07-05,
# ``open_24`` and ``percent_change_24``); the 2024 shape in DOCUMENTED has all of them.
TICKER_NEWER = {
    "$.side": "added 2023-07-05, after the 2021 recording (reference 3.1)",
    "$.open_24": "newer than the 2021 recording (reference 3.1)",
    "$.percent_change_24": "newer than the 2021 recording (reference 3.1)",
}


def test_ticker_matches_the_recorded_tickers(recorded: Path, sim_rest: dict[str, Reply]) -> None:
    theirs = union(
        shape(_capture(recorded, name).body)
        for name in ("getticker_200.txt", "gettickerhourly_200.txt")
    )
    assert_same(shape(sim_rest["ticker"].body), theirs, extra_ok=TICKER_NEWER)


def test_order_book_matches_the_recorded_snapshots(
    recorded: Path, sim_rest: dict[str, Reply]
) -> None:
    theirs = union(shape(book) for book in _cryptofeed(recorded, "BITSTAMP.http.0.0"))
    for name in ("book", "book_0"):  # group=0 rows have the group=1 shape (reference 3.3)
        assert_same(shape(sim_rest[name].body), theirs)


def test_trading_pairs_info_matches_the_recorded_rows(
    recorded: Path, sim_rest: dict[str, Reply]
) -> None:
    (rows,) = _cryptofeed(recorded, "BITSTAMP.0")
    extra = {"$[].instant_order_counter_decimals": "in later rows, not in 2022 (reference 3.7)"}
    assert_same(shape(sim_rest["pairs"].body), shape(rows), extra_ok=extra)


def test_validation_error_is_the_recorded_http_200_body(
    recorded: Path, sim_rest: dict[str, Reply]
) -> None:
    theirs = _capture(recorded, "get_user_transactions_200_with_validation_error.txt")
    ours = sim_rest["too_large"]
    assert (ours.status, ours.body) == (theirs.status, theirs.body) == (200, theirs.body)
    assert theirs.body == {"status": "error", "reason": "Limit too large."}
    assert ours.headers["content-type"] == theirs.headers["content-type"] == "application/json"
    # Signed like any authenticated 200, as recorded (reference 5.2).
    for reply in (ours, theirs):
        assert len(reply.headers["x-server-auth-signature"]) == 64


def test_unknown_market_and_path_get_the_recorded_html_404(
    recorded: Path, sim_rest: dict[str, Reply]
) -> None:
    pages = [_capture(recorded, n) for n in ("getticker_404.txt", "not_found_page_404.txt")]
    content_types = {page.headers["content-type"] for page in pages}
    assert content_types == {"text/html", "text/html; charset=utf-8"}
    for name in ("unknown_market", "unknown_path"):
        ours = sim_rest[name]
        assert ours.status == 404
        assert ours.headers["content-type"] in content_types
        assert ours.text.strip() == pages[0].text  # the CDN page, word for word
        with pytest.raises(json.JSONDecodeError):
            json.loads(ours.text)


# --- user transactions: recorded rows of other markets, so currency keys are aliased -------

_LEDGER_FIELDS = {"id", "datetime", "type", "fee", "order_id", "self_trade", "self_trade_order_id"}


def _ledger_key(path: str, key: str, value: Any) -> str:
    """File ``"xrp"``/``"btc"`` under ``<currency>`` (or ``<untouched currency>`` when the row
    carries the number 0 for it) and ``"xrp_eur"`` under ``<base>_<quote>`` (reference 4.7)."""
    if path != "$[]" or key in _LEDGER_FIELDS:
        return key
    if "_" in key:
        return "<base>_<quote>"
    if not isinstance(value, str) and value == 0:
        return "<untouched currency>"
    return "<currency>"


def _ledger_shapes(recorded: Path, sim_rest: dict[str, Reply]) -> tuple[Shape, Shape]:
    theirs = _capture(recorded, "get_user_transactions_200.txt").body
    ours = sim_rest["user_transactions"].body
    assert len(ours) >= 3  # the market buys' fills and the filled sell
    return shape(ours, _ledger_key), shape(theirs, _ledger_key)


def test_user_transactions_send_no_key_or_type_bitstamp_does_not(
    recorded: Path, sim_rest: dict[str, Reply]
) -> None:
    ours, theirs = _ledger_shapes(recorded, sim_rest)
    found = [d for d in differences(ours, theirs) if d.kind != "missing"]
    assert not found, "\n".join(map(str, found))


def test_user_transactions_list_untouched_currencies_as_zero(
    recorded: Path, sim_rest: dict[str, Reply]
) -> None:
    ours, theirs = _ledger_shapes(recorded, sim_rest)
    assert_same(ours, theirs)


def _places(text: str) -> int:
    return len(text.partition(".")[2])


def _significant(text: str) -> int:
    return len(text.partition(".")[2].rstrip("0"))


def _recorded_places(recorded: Path) -> dict[str, int]:
    """Decimals per currency in the recorded legacy balances: 8 crypto, 5 stable, 2 fiat."""
    flat = _capture(recorded, "get_account_balances_200.txt").body
    return {
        key[: -len("_balance")]: _places(v) for key, v in flat.items() if key.endswith("_balance")
    }


def test_recorded_amounts_are_padded_to_the_currency_decimals(recorded: Path) -> None:
    """What the two padding tests below hold the simulator to."""
    places = _recorded_places(recorded)
    assert (places["btc"], places["eth"], places["usdc"], places["usd"], places["eur"]) == (
        8, 8, 5, 2, 2,
    )  # fmt: skip
    rows = _capture(recorded, "get_user_transactions_200.txt").body
    xrp = [row["xrp"] for row in rows if isinstance(row.get("xrp"), str)]
    assert xrp == ["1526.87974528", "-299.58713000", "-1227.28287000"]


def test_user_transactions_pad_crypto_amounts(sim_rest: dict[str, Reply]) -> None:
    amounts = [row["btc"] for row in sim_rest["user_transactions"].body]
    assert all(isinstance(a, str) for a in amounts)
    assert {_places(a) for a in amounts} == {8}, amounts


def test_balances_are_padded_like_the_recorded_ones(
    recorded: Path, sim_rest: dict[str, Reply]
) -> None:
    places = _recorded_places(recorded)
    rows = sim_rest["balances"].body
    assert {row["currency"] for row in rows} >= {"btc", "eth", "xrp", "usdc", "usd"}
    for row in rows:
        for part in ("total", "available", "reserved"):
            text = row[part]  # never rounded: a fee booked to 5 places keeps them
            want = max(places[row["currency"]], _significant(text))
            assert _places(text) == want, (row["currency"], part, text)


# --- the comparison itself ---------------------------------------------------------------


def test_differences_name_the_exact_path_and_types() -> None:
    theirs = union(
        shape(frame)
        for frame in (
            {"data": {"id": 1, "price": 25862.5, "bids": [["1.0", "2.0"]], "tag": "x"}},
            {"data": {"id": 2, "price": 3800.8, "bids": []}},
        )
    )
    assert theirs["$.data.bids[][]"] == frozenset({"string"})
    ours = shape({"data": {"id": 1.5, "price": 25862, "bids": [[1, "2.0"]], "new": {"a": 1}}})
    assert [str(d) for d in differences(ours, theirs)] == [
        "missing $.data.tag: Bitstamp sends string",
        "extra $.data.new: we send object",  # its children are not listed again
        "type $.data.bids[][]: we send int, Bitstamp sends string",
        "type $.data.id: we send float, Bitstamp sends int",  # ids stay ints
    ]  # an integral price is still the JSON number Bitstamp sends: no difference
    allowed = differences(
        ours,
        theirs,
        numbers=["$.data.id"],
        extra_ok={"$.data.new": "why"},
        missing_ok={"$.data.tag": "why"},
    )
    assert [str(d) for d in allowed] == ["type $.data.bids[][]: we send int, Bitstamp sends string"]


def test_key_aliases_file_varying_keys_together() -> None:
    rows = [{"id": 1, "xrp": "-1.00000000", "usd": 0, "xrp_eur": 0.16}, {"id": 2, "btc": "1"}]
    assert set(shape(rows, _ledger_key)) == {
        "$",
        "$[]",
        "$[].id",
        "$[].<currency>",
        "$[].<untouched currency>",
        "$[].<base>_<quote>",
    }
    assert shape([{"btc": 0.5}], _ledger_key)["$[].<currency>"] == frozenset({"float"})
