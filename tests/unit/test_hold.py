"""The wait for a person, tick by tick (``ivr.calls.hold``): pure."""

from __future__ import annotations

from ivr.calls import hold
from ivr.calls.hold import (
    Announce,
    DialAgent,
    HoldState,
    Leave,
    OfferCallback,
    PlayHold,
    Policy,
    Standing,
    StartCallback,
)

OFFER = Policy(hold.OFFER, offer_after=120)


def waiting(position: int, estimate: int) -> Standing:
    return Standing("waiting", position, estimate)


def test_the_first_tick_says_the_place_and_the_estimate_then_plays_hold_music() -> None:
    state, steps = hold.tick(OFFER, HoldState(), waiting(2, 90), 0.0)
    assert steps == [Announce(2, 2), PlayHold("moh/hold-1", "")]
    _, steps = hold.tick(OFFER, state, waiting(2, 90), 3.0)
    assert steps == [PlayHold("moh/hold-2", "")]  # nothing changed: no announcement


def test_under_a_minute_is_said_as_such() -> None:
    _, steps = hold.tick(OFFER, HoldState(), waiting(1, 45), 0.0)
    assert steps[0] == Announce(1, 0)


def test_a_long_wait_offers_a_callback_once_and_hold_music_listens_for_1() -> None:
    state, steps = hold.tick(OFFER, HoldState(), waiting(3, 540), 0.0)
    assert steps == [Announce(3, 9), OfferCallback(), PlayHold("moh/hold-1", "1")]
    state, steps = hold.tick(OFFER, state, waiting(3, 540), 3.0)
    assert steps == [PlayHold("moh/hold-2", "1")]
    # A meaningful change is announced again, with the offer as a reminder.
    _, steps = hold.tick(OFFER, state, waiting(1, 180), 40.0)
    assert steps == [Announce(1, 3, "1"), OfferCallback(), PlayHold("moh/hold-1", "1")]


def test_a_small_change_soon_after_is_not_announced() -> None:
    state, _ = hold.tick(OFFER, HoldState(), waiting(3, 540), 0.0)
    _, steps = hold.tick(OFFER, state, waiting(2, 530), 10.0)  # same minutes, 10 s later
    assert not any(isinstance(step, Announce) for step in steps)
    _, steps = hold.tick(OFFER, state, waiting(2, 530), 125.0)  # changed, 2 minutes on
    assert isinstance(steps[0], Announce)


def test_never_offers_no_callback() -> None:
    _, steps = hold.tick(Policy(hold.NEVER), HoldState(), waiting(9, 3600), 0.0)
    assert steps == [Announce(9, 60), PlayHold("moh/hold-1", "")]


def test_callback_only_goes_straight_to_the_dialogue_then_holds_with_1() -> None:
    only = Policy(hold.ONLY)
    state, steps = hold.tick(only, HoldState(), waiting(1, 30), 0.0)
    assert steps == [StartCallback()]
    _, steps = hold.tick(only, state, waiting(1, 30), 1.0)
    assert steps[-1] == PlayHold("moh/hold-1", "1")


def test_an_offered_entry_rings_its_agent_and_a_miss_is_announced_anew() -> None:
    state, _ = hold.tick(OFFER, HoldState(), waiting(1, 30), 0.0)
    offered = Standing("offered", 1, 30, "agent-bob")
    assert hold.tick(OFFER, state, offered, 1.0) == (state, [DialAgent("agent-bob")])
    _, steps = hold.tick(OFFER, hold.after_agent_missed(state), waiting(1, 30), 25.0)
    assert steps[0] == Announce(1, 0)


def test_an_entry_no_longer_waiting_ends_the_hold() -> None:
    for gone in ("done", "abandoned", "callback", "connected"):
        assert hold.tick(OFFER, HoldState(), Standing(gone, 0, 0), 0.0)[1] == [Leave(gone)]


def test_dialable_numbers() -> None:
    assert hold.dialable("+8613800138001") and hold.dialable("5551234")
    assert not hold.dialable("") and not hold.dialable("e2e-caller")
    assert not hold.dialable("12") and not hold.dialable("555\n1234")
    assert hold.last4("+8613800138001") == "8001"
