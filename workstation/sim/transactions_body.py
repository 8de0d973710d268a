"""The REST ``transactions`` body of one market, written once per trade, served as a join.

A day of a busy market is 35,000 items (3.2 MB). Writing them for every request held the
event loop for about 190 ms a call, and one client polling at the rate limit starved every
other client. A trade never changes once made, so its item is written once, in blocks of
:data:`BLOCK` trades by the tape's sequence numbers; a body is the join of the blocks its
window covers plus the few trades at either end. Blocks not yet written are written a few
milliseconds' worth at a time with the event loop let go in between, so even the first day
asked for never holds it for long. The last body of each window is kept as well: a poller
asking again before anything traded gets the same bytes for nothing.
"""

from __future__ import annotations

import asyncio
import time

from .clock import SimClock
from .tape import TradeTape
from .wire.market_data import encode_transaction_rows

__all__ = ["BLOCK", "SLICE_S", "TransactionsBody"]

BLOCK = 256
"""Trades per written block: about half a millisecond of writing."""
SLICE_S = 0.001
"""How long blocks are written before the event loop gets a turn."""


class TransactionsBody:
    """The ``transactions`` bodies of one market's tape, by window."""

    def __init__(self, tape: TradeTape, clock: SimClock) -> None:
        self.tape = tape
        self.clock = clock
        self._blocks: dict[int, bytes] = {}
        """Block number -> its trades' items, newest first."""
        self._bodies: dict[int, tuple[int, int, bytes]] = {}
        """Window in microseconds -> (first seq, end seq, body) of the last body served."""

    async def body(self, window_us: int) -> bytes:
        """The JSON array of the trades of the last ``window_us``, newest first."""
        tape = self.tape
        while True:
            start = tape.seq_since(self.clock.peek_us() - window_us)
            end = tape.end_seq
            missing = [k for k in range(-(-start // BLOCK), end // BLOCK) if k not in self._blocks]
            if not missing:
                return self._assemble(window_us, start, end)
            began = time.perf_counter()
            for k in reversed(missing):  # newest first: the oldest may be dropped meanwhile
                if k * BLOCK >= tape.first_seq:
                    self._blocks[k] = self._rows(k * BLOCK, (k + 1) * BLOCK)
                if time.perf_counter() - began > SLICE_S:
                    break
            await asyncio.sleep(0)

    def _assemble(self, window_us: int, start: int, end: int) -> bytes:
        cached = self._bodies.get(window_us)
        if cached is not None and cached[0] == start and cached[1] == end:
            return cached[2]
        first_full, end_full = -(-start // BLOCK), end // BLOCK
        if first_full > end_full:  # the window lies inside one block
            pieces = [self._rows(start, end)]
        else:
            pieces = [self._rows(end_full * BLOCK, end)]
            pieces.extend(self._blocks[k] for k in range(end_full - 1, first_full - 1, -1))
            pieces.append(self._rows(start, first_full * BLOCK))
        items = [p for p in pieces if p]
        if not items:
            body = b"[]"
        else:  # brackets on the small end pieces: the body is copied once, not three times
            items[0] = b"[" + items[0]
            items[-1] += b"]"
            body = b",".join(items)
        self._bodies[window_us] = (start, end, body)
        first_kept = self.tape.first_seq
        for k in [k for k in self._blocks if (k + 1) * BLOCK <= first_kept]:
            del self._blocks[k]
        return body

    def _rows(self, start: int, end: int) -> bytes:
        tape = self.tape
        return encode_transaction_rows(
            tape,
            tape.index(start),
            tape.index(end),
            tape.base_decimals,
            tape.quote_decimals,
        )
