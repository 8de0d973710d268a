"""The counts one `make test` run proves (issue 16): each test that reaches a count records
what it did here, and the run ends with one line saying every count and whether it held.

A count is what actually ran (a test stopped early shows how far it got), never the target
alone; a failed or skipped count says so in the line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Count", "Tally"]


@dataclass
class Count:
    """One count of one test: ``done`` of ``target`` things (``unit``), and its outcome."""

    unit: str
    target: int
    nodeid: str
    done: int = 0
    note: str = ""
    """Said after the result, in brackets (e.g. ``0 double``, ``corpus: recorded``)."""
    outcome: str = "running"
    """``passed``, ``failed`` or ``skipped`` once pytest reported the test."""

    def describe(self) -> str:
        ran = f"{self.done:,}" if self.done >= self.target else f"{self.done:,}/{self.target:,}"
        result = {"passed": "ok", "failed": "FAILED", "skipped": "skipped"}.get(
            self.outcome, "not finished"
        )
        note = f" ({self.note})" if self.note else ""
        return f"{ran} {self.unit} {result}{note}"


@dataclass
class Tally:
    """Every count of the run, in the order the tests started them."""

    factor: int = 1
    counts: list[Count] = field(default_factory=list)

    def start(self, unit: str, target: int, nodeid: str) -> Count:
        count = Count(unit, target, nodeid)
        self.counts.append(count)
        return count

    def report(self, nodeid: str, outcome: str) -> None:
        """What pytest said of one test's phase; a failure in any phase fails its counts."""
        for count in self.counts:
            if count.nodeid != nodeid or count.outcome == "failed":
                continue
            if outcome == "failed" or count.outcome == "running":
                count.outcome = outcome

    def summary(self) -> str | None:
        """The one line, or None when no count ran (all deselected)."""
        if not self.counts:
            return None
        failed = [c.unit for c in self.counts if c.outcome not in ("passed", "skipped")]
        head = f"counts x{self.factor}" if self.factor != 1 else "counts"
        if failed:
            head += f" FAILED ({', '.join(failed)})"
        return f"{head}: " + " · ".join(c.describe() for c in self.counts)
