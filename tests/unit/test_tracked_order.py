"""Order snapshots as the panes read them: what is left, the average price, journal rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from workstation.domain.common import Side
from workstation.domain.order_vocabulary import TimeInForce, TrackState
from workstation.domain.tracked_order import TrackedOrder
from workstation.services.journal import JournalOrder, intent_terms, tracked_order_of_row

D = Decimal
AT = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def test_a_snapshot_made_the_old_way_still_works() -> None:
    order = TrackedOrder("c1", "sim", "btcusd", Side.BUY, "limit", D("0.02"), D("60000"),
                         TrackState.OPEN, 7, D("0.005"))  # fmt: skip
    assert (order.remaining, order.created_at, order.tif, order.replaces) == (
        D("0.015"),
        None,
        "gtc",
        None,
    )
    assert order.avg_price is None  # fills without their quote value: nothing to average


def test_remaining_is_in_the_unit_of_the_amount() -> None:
    base = TrackedOrder("c1", "sim", "btcusd", Side.BUY, "market", D("0.03"), None,
                        TrackState.PARTIALLY_FILLED, filled=D("0.01"),
                        filled_quote=D("670.00"))  # fmt: skip
    assert (base.remaining, base.avg_price) == (D("0.02"), D("67000"))
    quote = TrackedOrder("c2", "sim", "btcusd", Side.BUY, "instant", D("100"), None,
                         TrackState.FILLED, filled=D("0.00149247"), filled_quote=D("99.99949"),
                         amount_in_quote=True)  # fmt: skip
    assert quote.remaining == D("0.00051")
    assert quote.avg_price is not None
    assert quote.avg_price.quantize(D("0.01")) == D("67002.68")
    over = TrackedOrder("c3", "sim", "btcusd", Side.SELL, "instant", D("100"), None,
                        TrackState.FILLED, filled=D("0.0015"), filled_quote=D("100.01"),
                        amount_in_quote=True)  # fmt: skip
    assert over.remaining == 0


def test_a_journal_row_keeps_the_row_and_takes_what_it_has_no_column_for() -> None:
    row = JournalOrder("c1", "live", "btceur", Side.SELL, "limit", D("1"), D("50000"),
                       TrackState.PARTIALLY_FILLED, 42, D("0.25"), None, AT, AT)  # fmt: skip
    order = tracked_order_of_row(
        row, frozenset({5, 6}), filled_quote=D("12500"), fee=D("37.5"), tif="daily"
    )
    assert order == TrackedOrder("c1", "live", "btceur", Side.SELL, "limit", D("1"), D("50000"),
                                 TrackState.PARTIALLY_FILLED, 42, D("0.25"), None,
                                 frozenset({5, 6}), AT, D("12500"), D("37.5"), False,
                                 "daily")  # fmt: skip
    assert order.avg_price == D("50000")


def test_time_in_force_of_an_intent_journaled_with_its_form_flags() -> None:
    # Intents written before issue 13 kept the wire flags under "options" (was tif_of's test).
    def tif(options: dict[str, str]) -> TimeInForce:
        return intent_terms({"options": options}).tif

    assert tif({}) == "gtc"
    assert tif({"gtd_order": "True", "expire_time": "1"}) == "gtd"
    assert tif({"moc_order": "True"}) == "moc"
    assert tif({"limit_price": "70000"}) == "gtc"
    assert intent_terms({"options": {"gtd_order": "True", "expire_time": "1"}}).expire_ms == 1
    assert intent_terms({"tif": "ioc"}).tif is TimeInForce.IOC
