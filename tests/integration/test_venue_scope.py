"""Each start of the embedded simulator is a journal scope of its own."""

from __future__ import annotations

import re

from workstation.services.venue import EmbeddedSim


async def test_every_embedded_start_gets_a_fresh_scope() -> None:
    scopes = []
    for _ in range(2):
        sim = EmbeddedSim()
        async with sim as venue:
            assert venue.env == "sim"
            assert re.fullmatch(r"sim@embedded-[0-9a-f]{8}", venue.journal_env)
            assert venue.journal_env == f"sim@embedded-{sim.run_id}"
            scopes.append(venue.journal_env)
    assert scopes[0] != scopes[1]
