"""The sender's pacer against Slack's rolling limits, on a clock the test moves."""

from __future__ import annotations

import pytest

from bot.slack.pacing import CHANNEL_INTERVAL_SECONDS, RESERVATION_SECONDS, Pacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def pacer(clock: Clock) -> Pacer:
    # 600 a minute: at most 10 posts in any rolling second, as the stand-in enforces.
    return Pacer(per_minute={"chat.postMessage": 600.0}, clock=clock)


def post(pacer: Pacer, channel: str) -> bool:
    """Admit and make one DM answered at once, as the sender does; True when it may go now."""
    if pacer.admit("T1", "chat.postMessage", channel) > 0.0:
        return False
    with pacer.calling("T1", "chat.postMessage", channel):
        pass
    return True


def test_a_full_budget_never_lets_an_eleventh_post_into_the_first_second(
    pacer: Pacer, clock: Clock
) -> None:
    sent_at = []
    channel = 0
    while clock.now < 102.0:
        while post(pacer, f"D{channel}"):
            sent_at.append(clock.now)
            channel += 1
        clock.now += 0.01
    for first in sent_at:
        in_window = [t for t in sent_at if first <= t < first + 1.0]
        assert len(in_window) <= 10
    # …and the budget is used: ten at once, ten more as soon as the window allows.
    assert sent_at[:10] == [100.0] * 10
    assert sent_at[10] == pytest.approx(101.0, abs=0.011)


def test_a_post_is_counted_until_its_answer_then_from_its_answer(
    pacer: Pacer, clock: Clock
) -> None:
    """Slack counts a post when it arrives, which may be well after it started: only the
    answer is sure to come after that. Counted from the start (plus any fixed margin), the
    window would free a place while Slack still counts the post, and the 11th meets a 429."""
    for n in range(10):
        assert pacer.admit("T1", "chat.postMessage", f"D{n}") == 0.0
    # Admitted, not started yet: the window is full all the same.
    assert pacer.admit("T1", "chat.postMessage", "D10") > 0.0
    clock.now += 0.5  # the posts start half a second late (a loaded machine)
    calls = [pacer.calling("T1", "chat.postMessage", f"D{n}") for n in range(10)]
    for call in calls:
        call.__enter__()
    clock.now += 1.2  # in flight 1.2 s after they started: still counted
    assert pacer.admit("T1", "chat.postMessage", "D10") > 0.0
    clock.now += 0.3  # answered 1.5 s after the start; Slack counted them by then
    for call in calls:
        call.__exit__(None, None, None)
    clock.now += 0.99
    assert pacer.admit("T1", "chat.postMessage", "D10") == pytest.approx(0.01)
    clock.now += 0.01  # a second after the answers: no margin needed
    assert pacer.admit("T1", "chat.postMessage", "D10") == 0.0


def test_a_failed_call_counts_from_when_it_failed(pacer: Pacer, clock: Clock) -> None:
    for n in range(10):
        assert pacer.admit("T1", "chat.postMessage", f"D{n}") == 0.0
    clock.now = 100.5  # no answer until a timeout: each may have reached Slack until now
    for n in range(10):
        with pytest.raises(TimeoutError), pacer.calling("T1", "chat.postMessage", f"D{n}"):
            raise TimeoutError
    clock.now = 101.25
    assert pacer.admit("T1", "chat.postMessage", "D10") == pytest.approx(0.25)
    clock.now = 101.5
    assert pacer.admit("T1", "chat.postMessage", "D10") == 0.0


def test_an_admitted_post_given_back_frees_its_place_at_once(pacer: Pacer) -> None:
    for n in range(10):
        assert pacer.admit("T1", "chat.postMessage", f"C{n}") == 0.0
    assert pacer.admit("T1", "chat.postMessage", "C10") > 0.0
    pacer.release("T1", "chat.postMessage", "C3")  # another replica claimed its row
    assert pacer.admit("T1", "chat.postMessage", "C3") == 0.0


def test_an_admitted_post_that_never_starts_stops_counting(pacer: Pacer, clock: Clock) -> None:
    for n in range(10):
        assert pacer.admit("T1", "chat.postMessage", f"D{n}") == 0.0
    clock.now += RESERVATION_SECONDS - 0.1
    assert pacer.admit("T1", "chat.postMessage", "D10") > 0.0
    clock.now += 0.2
    assert pacer.admit("T1", "chat.postMessage", "D10") == 0.0


def test_one_post_per_channel_a_second_after_the_last_answer(pacer: Pacer, clock: Clock) -> None:
    assert post(pacer, "C1")
    wait = pacer.admit("T1", "chat.postMessage", "C1")
    assert wait == pytest.approx(CHANNEL_INTERVAL_SECONDS)
    assert post(pacer, "C2")  # another channel is not held back
    clock.now += CHANNEL_INTERVAL_SECONDS
    assert post(pacer, "C1")


def test_a_slow_tier_spaces_its_calls(clock: Clock) -> None:
    pacer = Pacer(per_minute={"chat.update": 50.0}, clock=clock)  # Tier 3: 50 a minute
    assert pacer.admit("T1", "chat.update", "C1") == 0.0
    with pacer.calling("T1", "chat.update", "C1"):
        pass
    assert pacer.admit("T1", "chat.update", "C2") == pytest.approx(60.0 / 50.0)
    clock.now += 60.0 / 50.0
    assert pacer.admit("T1", "chat.update", "C2") == 0.0


def test_workspaces_have_their_own_budgets(pacer: Pacer) -> None:
    for n in range(10):
        assert post(pacer, f"D{n}")
    assert not post(pacer, "D10")
    assert pacer.admit("T2", "chat.postMessage", "D10") == 0.0


def test_a_429_pauses_the_method_for_its_retry_after(clock: Clock) -> None:
    pacer = Pacer(per_minute={"views.publish": 100.0}, clock=clock)
    pacer.pause("T1", "views.publish", None, 3.0)
    assert pacer.admit("T1", "views.publish", "U1") == pytest.approx(3.0)
    clock.now += 3.0
    assert pacer.admit("T1", "views.publish", "U1") == 0.0


def test_unlimited_admits_everything(clock: Clock) -> None:
    pacer = Pacer.unlimited()
    for _ in range(500):
        assert pacer.admit("T1", "chat.postMessage", "C1") == 0.0
    for _ in range(500):
        with pacer.calling("T1", "chat.postMessage", "C1"):
            pass


def test_a_channel_s_next_post_waits_for_the_last_one_s_answer(pacer: Pacer, clock: Clock) -> None:
    assert pacer.admit("T1", "chat.postMessage", "C1") == 0.0
    clock.now += 0.8  # the post starts late…
    with pacer.calling("T1", "chat.postMessage", "C1"):
        clock.now += 1.5  # …and is answered late: the channel waits all along
        assert pacer.admit("T1", "chat.postMessage", "C1") > 0.0
    clock.now += CHANNEL_INTERVAL_SECONDS - 0.3
    # 2.3 s after the start, but only 0.7 s after Slack's answer
    assert pacer.admit("T1", "chat.postMessage", "C1") == pytest.approx(0.3)
    clock.now += 0.3
    assert pacer.admit("T1", "chat.postMessage", "C1") == 0.0


def test_a_429_met_in_flight_keeps_the_channel_paused(pacer: Pacer, clock: Clock) -> None:
    assert pacer.admit("T1", "chat.postMessage", "C1") == 0.0
    with pacer.calling("T1", "chat.postMessage", "C1"):
        pacer.pause("T1", "chat.postMessage", "C1", 30.0)
    assert pacer.admit("T1", "chat.postMessage", "C1") == pytest.approx(30.0)
