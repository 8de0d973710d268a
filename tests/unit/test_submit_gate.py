"""The submit gate's kill-switch halt: it refuses whatever the reconciles say, lifts when
the kill ends without opening a gate a reconcile still holds, and tells each change once;
and the submits past the gate are waited for, bounded."""

from __future__ import annotations

import asyncio

import pytest

from workstation.services.refusals import KILL_REASON, SubmitsBlocked
from workstation.services.submit_gate import START_REASON, SubmitGate


def test_a_halt_refuses_until_resumed_and_leaves_a_reconcile_s_block_in_place() -> None:
    told: list[str | None] = []
    gate = SubmitGate(told.append)
    gate.halt()
    with pytest.raises(SubmitsBlocked, match="kill switch"):
        gate.check()
    gate.open_after(gate.epoch)  # a reconcile ends during the kill: still halted
    assert gate.reason == KILL_REASON
    gate.close("private stream reconnected")
    gate.resume()
    assert gate.reason == "private stream reconnected"  # the reconcile's block holds
    gate.open_after(gate.epoch)
    gate.check()
    assert told == [KILL_REASON, "private stream reconnected", None]
    assert START_REASON not in told


async def test_submits_past_the_gate_are_waited_for_at_most_the_timeout() -> None:
    gate = SubmitGate()
    gate.begin("a")
    gate.begin("b")
    assert gate.unsettled == ("a", "b")
    asyncio.get_running_loop().call_later(0.05, gate.end, "a")
    assert await gate.settled(["a"], timeout_s=5)
    assert not await gate.settled(["b"], timeout_s=0.05)
    gate.end("b")
    assert gate.unsettled == ()
    assert await gate.settled(["a", "b"], timeout_s=0)
