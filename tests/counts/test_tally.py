"""The summary line: every count with what ran and its result; FAILED, with the names, as
soon as one failed; nothing when every count was deselected."""

from __future__ import annotations

import pytest

from .conftest import FACTOR_VARIABLE, counts_factor
from .tally import Tally


def test_every_count_ok_with_its_note() -> None:
    tally = Tally()
    cycles = tally.start("reconnect cycles", 200, "a")
    cycles.done = 200
    fuzzed = tally.start("fuzzed frames and bodies", 50_000, "b")
    fuzzed.done, fuzzed.note = 50_000, "corpus: recorded"
    tally.report("a", "passed")
    tally.report("b", "passed")
    assert tally.summary() == (
        "counts: 200 reconnect cycles ok · 50,000 fuzzed frames and bodies ok (corpus: recorded)"
    )


def test_a_failure_in_any_phase_names_the_count_and_says_how_far_it_got() -> None:
    tally = Tally(factor=25)
    cycles = tally.start("reconnect cycles", 5000, "a")
    cycles.done = 137
    timeouts = tally.start("submit timeouts", 12_500, "b")
    timeouts.done = 12_500
    tally.report("a", "failed")
    tally.report("b", "passed")
    tally.report("b", "failed")  # its teardown failed
    tally.report("b", "passed")  # and nothing after undoes that
    assert tally.summary() == (
        "counts x25 FAILED (reconnect cycles, submit timeouts): "
        "137/5,000 reconnect cycles FAILED · 12,500 submit timeouts FAILED"
    )


def test_a_count_never_reported_is_not_finished_and_fails_the_line() -> None:
    tally = Tally()
    tally.start("ticket inputs", 10_000, "a").done = 10
    assert tally.summary() == "counts FAILED (ticket inputs): 10/10,000 ticket inputs not finished"


def test_no_count_ran_no_line() -> None:
    assert Tally().summary() is None


@pytest.mark.parametrize("text", ["0", "-1", "two", "2.5", ""])
def test_the_factor_is_a_whole_number_of_one_or_more(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv(FACTOR_VARIABLE, text)
    with pytest.raises(pytest.UsageError, match=FACTOR_VARIABLE):
        counts_factor()
    monkeypatch.setenv(FACTOR_VARIABLE, "25")
    assert counts_factor() == 25
