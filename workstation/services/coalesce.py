"""One request in flight per key, and one trailing: how bursts of prompts stay cheap.

The private stream prompts a confirmation on every event about an order, and a listing of a
market's open orders on every event about an order placed elsewhere. A burst of such events
must cost one request in flight per key, yet the last event must never be missed: a call
made while the work for its key runs asks for one more run after it, and every such call
shares that one trailing run (and its result).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import msgspec

__all__ = ["Coalesced"]

_T = TypeVar("_T")


class _Run(msgspec.Struct, Generic[_T], eq=False):
    """One coalesced run in progress: ``again`` asks its loop for one more pass."""

    done: asyncio.Future[_T]
    again: bool = False


class Coalesced(Generic[_T]):
    """``await coalesced(key)`` runs ``work(key)``, coalesced per key.

    Args:
        work: the request(s) for one key.
        fallback: what waiters get when the run is cancelled (what is known now).
    """

    def __init__(self, work: Callable[[str], Awaitable[_T]], fallback: Callable[[str], _T]) -> None:
        self._work = work
        self._fallback = fallback
        self._runs: dict[str, _Run[_T]] = {}

    async def __call__(self, key: str) -> _T:
        running = self._runs.get(key)
        if running is not None:
            running.again = True
            return await asyncio.shield(running.done)
        running = _Run(asyncio.get_running_loop().create_future())
        self._runs[key] = running
        try:
            while True:
                running.again = False
                result = await self._work(key)
                if not running.again:
                    break
            running.done.set_result(result)
            return result
        except BaseException as error:
            if not running.done.done() and not isinstance(error, asyncio.CancelledError):
                running.done.set_exception(error)
                running.done.exception()  # retrieved: the caller gets it raised
            raise
        finally:
            del self._runs[key]
            if not running.done.done():  # cancelled: waiters get what is known now
                running.done.set_result(self._fallback(key))
