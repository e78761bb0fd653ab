"""The wait for a person, tick by tick (``ivr.center.hold``): pure."""

from __future__ import annotations

from ivr.center import hold, hold_policy, hold_steps
from ivr.center import lifecycle as lc
from ivr.center.hold import HoldState, Standing
from ivr.center.hold_policy import Policy
from ivr.center.hold_steps import (
    Announce,
    DialAgent,
    GiveUp,
    GoTo,
    Leave,
    OfferCallback,
    PlayHold,
    StartCallback,
    Tell,
)
from ivr.flow.model import QueuePolicy

OFFER = Policy(hold_policy.OFFER, offer_after=120)


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
    _, steps = hold.tick(Policy(hold_policy.NEVER), HoldState(), waiting(9, 3600), 0.0)
    assert steps == [Announce(9, 60), PlayHold("moh/hold-1", "")]


def test_callback_only_goes_straight_to_the_dialogue_then_holds_with_1() -> None:
    only = Policy(hold_policy.ONLY)
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


# -- the queue's policy --------------------------------------------------------------------


def nobody(position: int = 1, estimate: int = 180) -> Standing:
    return Standing("waiting", position, estimate, staffed=0)


def test_nobody_signed_in_is_said_and_the_callback_offered_at_once_never_an_estimate() -> None:
    state, steps = hold.tick(OFFER, HoldState(), nobody(), 0.0)
    assert steps == [Tell(hold_steps.NO_AGENTS), StartCallback(stays=False)]  # then goodbye
    assert not any(isinstance(step, Announce) for step in steps)  # no "number 1" for nobody
    assert state.offer_made and state.nobody_told


def test_nobody_signed_in_after_the_offer_came_to_nothing_gives_up() -> None:
    state, _ = hold.tick(OFFER, HoldState(), nobody(), 0.0)
    _, steps = hold.tick(OFFER, state, nobody(), 5.0)  # the dialogue ended without a callback
    assert steps == [GiveUp()]


def test_nobody_signed_in_with_callback_never_gives_up_at_once() -> None:
    _, steps = hold.tick(Policy(hold_policy.NEVER), HoldState(), nobody(), 0.0)
    assert steps == [Tell(hold_steps.NO_AGENTS), GiveUp()]


def test_nobody_signed_in_goes_to_the_named_node() -> None:
    policy = Policy(hold_policy.OFFER, no_agents_node="after_hours")
    _, steps = hold.tick(policy, HoldState(), nobody(), 0.0)
    assert steps == [Tell(hold_steps.NO_AGENTS), GoTo("after_hours")]


def test_callback_only_with_nobody_starts_the_dialogue_then_gives_up() -> None:
    only = Policy(hold_policy.ONLY)
    state, steps = hold.tick(only, HoldState(), nobody(), 0.0)
    assert steps == [StartCallback(stays=False)]  # after hours: the route said it
    assert hold.tick(only, state, nobody(), 9.0)[1] == [GiveUp()]


def test_an_agent_signing_in_ends_the_no_agents_case() -> None:
    state, _ = hold.tick(OFFER, HoldState(), nobody(), 0.0)
    _, steps = hold.tick(OFFER, state, waiting(1, 45), 5.0)
    assert steps[0] == Announce(1, 0, "1")  # 1 still asks for the callback


def test_an_offered_entry_rings_even_when_nobody_else_is_signed_in() -> None:
    offered = Standing("offered", 1, 30, "agent-bob", staffed=0)
    assert hold.tick(OFFER, HoldState(), offered, 0.0)[1] == [DialAgent("agent-bob")]


def test_max_wait_offers_the_callback_once() -> None:
    policy = Policy(hold_policy.OFFER, offer_after=9999, max_wait=600)
    state, _ = hold.tick(policy, HoldState(), waiting(4, 700), 100.0)
    state, steps = hold.tick(policy, state, waiting(4, 700), 699.0)
    assert not any(isinstance(step, StartCallback) for step in steps)  # 599 s: not yet
    state, steps = hold.tick(policy, state, waiting(4, 700), 700.0)
    assert steps == [Tell(hold_steps.MAX_WAIT), StartCallback()]
    _, steps = hold.tick(policy, state, waiting(4, 700), 800.0)
    assert isinstance(steps[-1], PlayHold) and steps[-1].escape == "1"  # once; 1 still works


def test_max_wait_goes_to_the_named_node() -> None:
    policy = Policy(hold_policy.OFFER, max_wait=60, on_max_wait="voicemail")
    state, _ = hold.tick(policy, HoldState(), waiting(2, 300), 0.0)
    assert hold.tick(policy, state, waiting(2, 300), 60.0)[1] == [
        Tell(hold_steps.MAX_WAIT),
        GoTo("voicemail", lc.Trigger.MAX_WAIT),
    ]


def test_max_wait_with_callback_never_and_no_node_keeps_holding() -> None:
    policy = Policy(hold_policy.NEVER, max_wait=60)
    state, _ = hold.tick(policy, HoldState(), waiting(2, 300), 0.0)
    state, steps = hold.tick(policy, state, waiting(2, 300), 61.0)
    assert steps == [PlayHold("moh/hold-2", "")] and state.max_wait_done


def test_announce_every_says_an_unchanged_position_again_at_the_interval() -> None:
    policy = Policy(hold_policy.NEVER, announce_every=60)
    state, _ = hold.tick(policy, HoldState(), waiting(3, 400), 0.0)
    state, steps = hold.tick(policy, state, waiting(3, 400), 59.0)
    assert not any(isinstance(step, Announce) for step in steps)
    state, steps = hold.tick(policy, state, waiting(3, 400), 60.0)
    assert steps[0] == Announce(3, 7)
    _, steps = hold.tick(OFFER, state, waiting(3, 400), 200.0)  # off: only on change
    assert not any(isinstance(step, Announce) for step in steps)


def test_the_policy_of_a_queue_node_becomes_the_hold_policy() -> None:
    queue = QueuePolicy(max_wait=300, on_max_wait="x", when_no_agents="y", announce_every=90)
    policy = hold_policy.policy_for(hold_policy.OFFER, 120, queue)
    assert (policy.max_wait, policy.on_max_wait, policy.no_agents_node) == (300, "x", "y")
    assert policy.announce_every == 90
    assert hold_policy.policy_for(hold_policy.OFFER, 120, QueuePolicy()).no_agents_node is None
    callback_call = hold_policy.policy_for(hold_policy.NEVER, 0, None)
    assert callback_call.max_wait == float("inf") and not callback_call.nobody_rule


def test_a_callback_call_is_held_even_with_nobody_signed_in() -> None:
    policy = hold_policy.policy_for(hold_policy.NEVER, 0, None)
    _, steps = hold.tick(policy, HoldState(), nobody(), 0.0)
    assert steps == [Announce(1, 3), PlayHold("moh/hold-1", "")]
