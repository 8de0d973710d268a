"""A channel's rhythm: learned from its gaps, bounded by the policy, and a stall is neither
learned nor forgotten."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from workstation.services.cadence import Cadence, SilencePolicy

POLICY = SilencePolicy(floor_s=2.0, ceiling_s=60.0, multiple=20.0, learn_after=5)


def busy(cadence: Cadence, gap: float, frames: int, start: float = 0.0) -> float:
    now = start
    for _ in range(frames):
        cadence.frame(now)
        now += gap
    return now - gap


def test_the_ceiling_applies_until_the_rhythm_is_learned_then_the_floor() -> None:
    cadence = Cadence(POLICY)
    assert cadence.limit_s() == 60.0
    last = busy(cadence, 0.1, 10)
    assert cadence.usual_s is not None
    assert abs(cadence.usual_s - 0.1) < 1e-9
    assert cadence.limit_s() == 2.0  # 20 x 0.1 s is under the floor
    assert cadence.silent_for(last + 1.9) is None
    assert cadence.silent_for(last + 2.5) == 2.5


def test_a_stall_is_reported_when_the_channel_returns_and_not_learned() -> None:
    cadence = Cadence(POLICY)
    last = busy(cadence, 0.1, 10)
    cadence.checked(last + 2.5, missed=True)
    assert cadence.missing
    assert cadence.frame(last + 7.0) == 7.0  # frames may be lost in those 7 s
    assert not cadence.missing
    assert cadence.limit_s() == 2.0  # the stall taught it nothing


def test_a_quiet_market_confirmed_by_a_check_is_learned() -> None:
    cadence = Cadence(POLICY)
    last = busy(cadence, 0.1, 10)
    cadence.checked(last + 2.5, missed=False)
    assert not cadence.missing
    assert cadence.frame(last + 4.0) == 4.0  # still recovered: a stall may hide in it
    assert cadence.usual_s is not None
    assert cadence.usual_s > 0.1


def test_a_new_subscription_forgets_the_disconnection() -> None:
    cadence = Cadence(POLICY)
    last = busy(cadence, 0.1, 10)
    cadence.restart(last + 30.0)
    assert cadence.silent_for(last + 31.0) is None
    assert cadence.frame(last + 31.0) is None


@given(st.lists(st.floats(min_value=0.0, max_value=1e4), min_size=1, max_size=50))
def test_the_limit_stays_within_the_floor_and_the_ceiling(gaps: list[float]) -> None:
    cadence = Cadence(POLICY)
    now = 0.0
    for gap in gaps:
        now += gap
        cadence.frame(now)
        assert POLICY.floor_s <= cadence.limit_s() <= POLICY.ceiling_s


def test_a_check_that_finds_nothing_moved_clears_missing_but_a_lost_gap_is_not_learned() -> None:
    cadence = Cadence(POLICY)
    last = busy(cadence, 0.1, 10)
    cadence.checked(last + 2.5, missed=True)
    cadence.checked(last + 5.0, missed=False)  # resynced, and the venue has not moved since
    assert not cadence.missing
    assert cadence.frame(last + 6.0) == 6.0
    assert cadence.limit_s() == 2.0


class ReferenceCadence:
    """The rule of :meth:`Cadence.frame` written plainly (no per-frame shortcut): the fast
    path for frames in rhythm must answer and learn exactly as this does."""

    def __init__(self, policy: SilencePolicy) -> None:
        self.policy, self.average, self.gaps = policy, None, 0
        self.usual_s: float | None = None
        self.last: float | None = None
        self.missing = self.lost = self.quiet = False

    def limit(self) -> float:
        p = self.policy
        if self.usual_s is None:
            return p.ceiling_s
        return min(p.ceiling_s, max(p.floor_s, p.multiple * self.usual_s))

    def frame(self, now: float) -> float | None:
        limit = self.limit()
        gap = None if self.last is None else now - self.last
        suspect = gap is not None and (gap > limit or self.lost)
        if gap is not None and (gap <= limit or (self.quiet and not self.lost)):
            learned = min(gap, self.policy.ceiling_s)
            self.gaps += 1
            a = self.average
            self.average = learned if a is None else a + 0.1 * (learned - a)
            if self.gaps >= self.policy.learn_after:
                self.usual_s = self.average
        self.last = now
        self.missing = self.lost = self.quiet = False
        return gap if suspect else None

    def checked(self, missed: bool) -> None:
        self.missing = missed
        self.lost = self.lost or missed
        self.quiet = self.quiet or not missed

    def restart(self) -> None:
        self.last = None
        self.missing = self.lost = self.quiet = False


@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("frame"), st.floats(min_value=0.0, max_value=100.0)),
            st.tuples(st.just("check"), st.booleans()),
            st.tuples(st.just("restart"), st.none()),
        ),
        max_size=60,
    )
)
def test_the_per_frame_path_answers_as_the_plain_rule(steps: list[tuple[str, object]]) -> None:
    cadence, reference, now = Cadence(POLICY), ReferenceCadence(POLICY), 0.0
    for what, value in steps:
        if what == "frame":
            assert isinstance(value, float)
            now += value
            assert cadence.frame(now) == reference.frame(now)
        elif what == "check":
            cadence.checked(now, missed=bool(value))
            reference.checked(bool(value))
        else:
            cadence.restart(now)
            reference.restart()
        assert cadence.usual_s == reference.usual_s
        assert cadence.missing == reference.missing
        assert cadence.limit_s() == reference.limit()
