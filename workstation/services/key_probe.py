"""What an API key may do, as far as Bitstamp tells without an order being placed.

Bitstamp has no endpoint that lists a key's permissions (reference 4, 6): each private
endpoint answers API0003 "No permission found" when the key lacks the permission it needs.
So the probe makes one signed *read* per permission a trader relies on and reports which
answered and which were refused. Placing, cancelling and withdrawing are never tried: whether
the key may do them stays unknown, and the report says so.

A refusal of the key itself (unknown key, wrong secret, IP not allowed, account frozen, our
clock off) ends the probe at the first read: no other answer would mean anything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum

import msgspec

from ..bitstamp.errors import AuthenticationError, BitstampError, PermissionDenied
from ..bitstamp.rest import RestClient

__all__ = ["NOT_PROBED", "KeyReport", "Probe", "ProbeOutcome", "probe_key"]

NOT_PROBED = (
    "placing, cancelling and withdrawing were not tried (that would mean doing them): "
    "Bitstamp does not say whether this key may"
)


class ProbeOutcome(Enum):
    ANSWERED = "yes"
    REFUSED = "no"
    UNKNOWN = "could not tell"


class Probe(msgspec.Struct, frozen=True):
    """One signed read and what came of it."""

    what: str
    """What the key may do if the read answers (``see balances``)."""
    endpoint: str
    outcome: ProbeOutcome
    detail: str = ""
    """Why it was refused or could not tell (the error's message and code), else ""."""


class KeyReport(msgspec.Struct, frozen=True):
    probes: tuple[Probe, ...]
    key_refused: str | None = None
    """Why the key itself was refused (then ``probes`` holds only the read that said so)."""

    @property
    def works(self) -> bool:
        """The key signs requests the exchange accepts (some reads may still be refused)."""
        return self.key_refused is None and any(
            p.outcome is not ProbeOutcome.UNKNOWN for p in self.probes
        )


def _reads(rest: RestClient) -> list[tuple[str, str, Callable[[], Awaitable[object]]]]:
    return [
        ("see balances", "/api/v2/account_balances/", rest.account_balances),
        ("see open orders", "/api/v2/open_orders/all/", rest.open_orders),
        (
            "see the account's transactions",
            "/api/v2/user_transactions/",
            lambda: rest.user_transactions(limit=1),
        ),
        ("see trading fees", "/api/v2/fees/trading/", rest.trading_fees),
        (
            "follow its orders live (private WebSocket token)",
            "/api/v2/websockets_token/",
            rest.websockets_token,
        ),
    ]


def _facts(error: BitstampError) -> str:
    facts = error.facts
    return f"{error.message} ({facts})" if facts else error.message


async def probe_key(rest: RestClient) -> KeyReport:
    """Make the signed reads with ``rest`` (a client holding the key) and report each."""
    probes: list[Probe] = []
    for what, endpoint, read in _reads(rest):
        try:
            await read()
        except PermissionDenied as exc:
            probes.append(Probe(what, endpoint, ProbeOutcome.REFUSED, _facts(exc)))
        except AuthenticationError as exc:
            probes.append(Probe(what, endpoint, ProbeOutcome.REFUSED, _facts(exc)))
            return KeyReport(tuple(probes), key_refused=_facts(exc))
        except BitstampError as exc:
            probes.append(Probe(what, endpoint, ProbeOutcome.UNKNOWN, _facts(exc)))
        else:
            probes.append(Probe(what, endpoint, ProbeOutcome.ANSWERED))
    return KeyReport(tuple(probes))
