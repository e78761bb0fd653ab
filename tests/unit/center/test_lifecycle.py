"""The contact center's transition table (ivr.center.lifecycle) is complete and
consistent: every state is reachable, end states have no way out, every trigger moves
something, and illegal moves are refused with a clear error."""

from __future__ import annotations

import pytest

from ivr.center import lifecycle as lc
from ivr.center.lifecycle import Actor, IllegalTransition, Trigger
from ivr.errors import IvrError


def reachable(machine: str) -> set[str]:
    seen = {lc.INITIAL[machine]}
    if machine == lc.ENTRY:
        seen.add(lc.RESUMED)  # made by ``resume`` from a waiting callback entry
    frontier = list(seen)
    while frontier:
        state = frontier.pop()
        for rule in lc.TRANSITIONS:
            if rule.machine == machine and rule.source == state and rule.target not in seen:
                seen.add(rule.target)
                frontier.append(rule.target)
    return seen


@pytest.mark.parametrize("machine", lc.MACHINES)
def test_every_state_of_a_machine_is_reachable_from_its_initial_state(machine: str) -> None:
    assert reachable(machine) == lc.STATES[machine]


@pytest.mark.parametrize("machine", lc.MACHINES)
def test_end_states_have_no_way_out_and_every_other_state_has_one(machine: str) -> None:
    for state in lc.STATES[machine]:
        leaving = [r for r in lc.TRANSITIONS if r.machine == machine and r.source == state]
        if state in lc.ENDS[machine]:
            assert leaving == [], state
        else:
            assert leaving, f"{machine} {state} is a dead end"


def test_every_row_names_known_states_a_known_trigger_and_someone_who_may_cause_it() -> None:
    for rule in lc.TRANSITIONS:
        assert rule.source in lc.STATES[rule.machine], rule
        assert rule.target in lc.STATES[rule.machine], rule
        assert rule.trigger in lc.TRIGGERS, rule
        assert rule.actors and rule.actors <= lc.ACTORS, rule


def test_every_trigger_moves_some_machine() -> None:
    assert {rule.trigger for rule in lc.TRANSITIONS} == lc.TRIGGERS


def test_the_new_triggers_are_in_the_table() -> None:
    assert lc.next_state(lc.ENTRY, lc.WAITING, Trigger.LEASE_EXPIRED) == lc.ABANDONED
    assert lc.next_state(lc.ENTRY, lc.OFFERED, Trigger.RING_TIMEOUT) == lc.WAITING
    assert lc.next_state(lc.AGENT, lc.RINGING, Trigger.RING_TIMEOUT) == lc.MISSED
    assert lc.next_state(lc.AGENT, lc.RINGING, Trigger.LEASE_EXPIRED) == lc.AVAILABLE
    assert lc.next_state(lc.ENTRY, lc.WAITING, Trigger.MAX_WAIT) == lc.ABANDONED
    assert lc.next_state(lc.ENTRY, lc.WAITING, Trigger.NO_AGENTS) == lc.ABANDONED
    assert lc.next_state(lc.AGENT, lc.ON_CALL, Trigger.FORCED_OFFLINE, Actor.SUPERVISOR) == (
        lc.OFFLINE
    )


def test_an_agent_can_always_go_offline_one_way_or_the_other() -> None:
    for state in lc.STATES[lc.AGENT] - {lc.OFFLINE}:
        ways = [
            lc.allowed(lc.AGENT, state, trigger)
            for trigger in (Trigger.OFFLINE, Trigger.FORCED_OFFLINE)
        ]
        assert ways.count(True) == 1, state


def test_a_missed_agent_is_offered_nothing_until_they_say_available() -> None:
    assert not lc.allowed(lc.AGENT, lc.MISSED, Trigger.OFFER)
    assert lc.next_state(lc.AGENT, lc.MISSED, Trigger.AVAILABLE, Actor.AGENT) == lc.AVAILABLE


def test_the_lease_and_ring_timeout_are_the_reapers_alone() -> None:
    reapers = (
        Trigger.LEASE_EXPIRED, Trigger.RING_TIMEOUT, Trigger.CALLBACK_LAPSED,
        Trigger.CALLBACK_LAPSED_LAST,
    )  # fmt: skip
    for rule in lc.TRANSITIONS:
        if rule.trigger in reapers:
            assert rule.actors == {Actor.REAPER}


def test_a_lapsed_dial_attempt_is_a_failed_one_and_frees_the_agent_not_missed() -> None:
    for trigger, ends in ((Trigger.CALLBACK_LAPSED, False), (Trigger.CALLBACK_LAPSED_LAST, True)):
        callback = lc.next_state(lc.CALLBACK, lc.CB_DIALING, trigger, Actor.REAPER)
        entry = lc.next_state(lc.ENTRY, lc.OFFERED, trigger, Actor.REAPER)
        agent = lc.next_state(lc.AGENT, lc.RINGING, trigger, Actor.REAPER)
        assert (callback, entry) == (
            (lc.CB_FAILED, lc.FAILED) if ends else (lc.CB_WAITING, lc.WAITING)
        )
        assert agent == lc.AVAILABLE
    # the same moves as the dialler's own report of a failed attempt
    for lapsed, reported in (
        (Trigger.CALLBACK_LAPSED, Trigger.CALLBACK_FAILED),
        (Trigger.CALLBACK_LAPSED_LAST, Trigger.CALLBACK_GAVE_UP),
    ):
        for machine, state in (
            (lc.CALLBACK, lc.CB_DIALING),
            (lc.ENTRY, lc.OFFERED),
            (lc.AGENT, lc.RINGING),
        ):
            assert lc.next_state(machine, state, lapsed) == lc.next_state(machine, state, reported)
    # only an attempt still being dialled lapses: a customer who answered is held
    assert lc.sources(lc.CALLBACK, Trigger.CALLBACK_LAPSED) == (lc.CB_DIALING,)


def test_a_held_customer_of_our_callback_whose_holder_died_ends_as_a_hang_up_does() -> None:
    expired = lc.next_state(lc.CALLBACK, lc.CB_CONNECTED, Trigger.LEASE_EXPIRED, Actor.REAPER)
    assert expired == lc.next_state(lc.CALLBACK, lc.CB_CONNECTED, Trigger.HANG_UP) == lc.CB_DONE
    assert lc.next_state(lc.ENTRY, lc.OFFERED, Trigger.LEASE_EXPIRED) == lc.ABANDONED
    assert not lc.allowed(lc.CALLBACK, lc.CB_WAITING, Trigger.LEASE_EXPIRED)  # nobody holds it


def test_a_late_answer_of_an_attempt_given_up_is_taken_up() -> None:
    for state in (lc.CB_DIALING, lc.CB_WAITING):
        assert lc.next_state(lc.CALLBACK, state, Trigger.CALLBACK_ANSWERED) == lc.CB_CONNECTED


def test_an_illegal_move_names_machine_state_trigger_and_actor() -> None:
    with pytest.raises(IllegalTransition) as raised:
        lc.next_state(lc.ENTRY, lc.DONE, Trigger.OFFER)
    assert isinstance(raised.value, IvrError)
    assert "entry" in str(raised.value) and "'done'" in str(raised.value)
    assert "'offer'" in str(raised.value)
    with pytest.raises(IllegalTransition, match="by caller"):
        lc.next_state(lc.ENTRY, lc.OFFERED, Trigger.RING_TIMEOUT, Actor.CALLER)


def test_sources_are_the_states_a_compare_and_set_may_start_from() -> None:
    assert lc.sources(lc.ENTRY, Trigger.LEASE_EXPIRED) == ("offered", "resumed", "waiting")
    assert lc.sources(lc.AGENT, Trigger.AVAILABLE) == ("missed", "offline", "paused", "wrap_up")
    with pytest.raises(IllegalTransition):
        lc.sources(lc.CALLBACK, Trigger.OFFER)


def test_state_names_are_the_strings_the_database_holds() -> None:
    assert lc.STATES[lc.ENTRY] >= {"waiting", "offered", "connected", "done", "abandoned"}
    assert lc.STATES[lc.AGENT] == {
        "offline", "available", "ringing", "on_call", "wrap_up", "missed", "paused"
    }  # fmt: skip


def test_a_pause_is_never_taken_on_a_call_and_withdraws_a_ringing_offer() -> None:
    assert not lc.allowed(lc.AGENT, lc.ON_CALL, Trigger.PAUSE)
    assert lc.next_state(lc.AGENT, lc.RINGING, Trigger.PAUSE, Actor.SUPERVISOR) == lc.PAUSED
    assert lc.next_state(lc.ENTRY, lc.OFFERED, Trigger.PAUSE, Actor.AGENT) == lc.WAITING
    assert lc.next_state(lc.CALLBACK, lc.CB_DIALING, Trigger.PAUSE, Actor.AGENT) == lc.CB_WAITING
    assert lc.next_state(lc.AGENT, lc.PAUSED, Trigger.AVAILABLE, Actor.AGENT) == lc.AVAILABLE
    with pytest.raises(lc.IllegalTransition):
        lc.transition(lc.AGENT, lc.PAUSED, Trigger.AVAILABLE, Actor.SUPERVISOR)
    assert lc.PAUSED not in lc.STAFFED_AGENT_STATES
