"""What the ticket shows of a preview, and what it journals of it: text, kept apart from the
screen's steps (``ticket.py``)."""

from __future__ import annotations

from rich.text import Text

from ...domain.markets import Market
from ...domain.numbers import format_decimal, plain
from ...domain.preview import summary
from ...domain.ticket import TicketCheck

__all__ = ["journal_preview", "preview_text"]


def preview_text(check: TicketCheck, market: Market, fee_known: bool) -> Text:
    """The preview block: the taker part's LABELS, depth, what rests, what it holds. A walk
    made without the account's fee (watch only: no account) says the fee is unknown."""
    text = Text()
    taker = check.taker_preview
    limit = check.limit_preview
    if taker is None and limit is None:
        if check.amount is not None and not fee_known:
            text.append("preview waits for the account's fee", style="dim")
        return text
    if taker is not None:
        for label, value in summary(taker, market):
            if not fee_known and label == "Fee":
                value = "unknown (no account)"
            elif not fee_known and label == "Total":
                value += " + fee"
            text.append(f"{label:<10}", style="dim")
            text.append(f"{value}\n")
        share = "-" if taker.depth_share is None else f"{taker.depth_share * 100:.2f}%"
        text.append(f"{taker.levels_consumed} levels, {share} of visible depth", style="dim")
        if taker.warning:
            text.append(f"\n\u26a0 {taker.warning}", style="bold yellow")
    if limit is not None:
        if taker is None:
            text.append("nothing executes at once", style="dim")
        if limit.resting_amount:
            price = format_decimal(limit.price, market.quote_decimals)
            value = format_decimal(limit.resting_value, market.quote_decimals)
            text.append(f"\nrests {plain(limit.resting_amount)} {market.base} at {price}")
            text.append(f" ({value} {market.quote})", style="dim")
        if limit.reason:
            style = "bold yellow" if limit.would_cancel else "dim"
            text.append(f"\n\u26a0 {limit.reason}", style=style)
    if check.holds is not None:
        held, currency = check.holds
        places = market.quote_decimals if currency == market.quote else market.base_decimals
        text.append(f"\n{'Holds':<10}", style="dim")
        text.append(f"{format_decimal(held, places, rounding='ROUND_UP')} {currency}")
    return text


def journal_preview(check: TicketCheck) -> dict[str, str]:
    """The numbers the trader saw when sending, as text (the journal refuses floats)."""
    out: dict[str, str] = {}
    taker = check.taker_preview
    if taker is not None:
        for name in ("avg_price", "worst_price", "slippage_vs_best_bps", "slippage_vs_mid_bps"):
            value = getattr(taker, name)
            if value is not None:
                out[name] = plain(value)
        out.update(fee=plain(taker.fee), total=plain(taker.total))
        out["filled_amount"] = plain(taker.filled_amount)
    if check.limit_preview is not None:
        out["resting_amount"] = plain(check.limit_preview.resting_amount)
    if check.holds is not None:
        out["holds"] = f"{plain(check.holds[0])} {check.holds[1]}"
    return out
