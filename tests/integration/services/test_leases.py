"""Leases, ring timeouts, forced offline and the reaper on a real database (SQLite and
PostgreSQL): nobody is stranded when the process holding a caller dies, an offer nobody
answers is taken back, an agent can always go offline, and the desk follows the agent's
actual offer."""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from integration.support import Db, StoppedClock
from integration.web_client import Web
from ivr.app.bootstrap import Components, center_settings
from ivr.app.dispatcher import Dispatcher
from ivr.center import lifecycle as lc
from ivr.center.lifecycle import IllegalTransition, Trigger
from ivr.phone.asterisk.call_files import CallbackSettings
from ivr.phone.asterisk.channel import CallFileDialer
from ivr.services.contact_agents import Agent
from ivr.services.contact_center import ContactCenter, Entry, Note, Refused, WaitingCall
from ivr.services.reaper import GRACE, Reaped

LEASE = 30
RING = 20
_serial = itertools.count(1)


@pytest.fixture
def center(hotline: Components, clock: StoppedClock) -> ContactCenter:
    settings = replace(
        hotline.settings, secret_key="lease-tests", wrap_up_seconds=30, queue_lease_seconds=LEASE
    )
    hotline.sessions  # noqa: B018 - the schema check
    return ContactCenter(
        hotline.unit_of_work, clock, center_settings(settings), ring_timeouts={"general": RING}
    )


@pytest.fixture
def ids(center: ContactCenter) -> dict[str, int]:
    return {agent.username: agent.id for agent in center.agents_view()}


def caller(queue: str = "general", priority: int = 1) -> WaitingCall:
    n = next(_serial)
    return WaitingCall(
        call_id=f"lease-call-{n}", queue=queue, priority=priority, skill=queue, language="en",
        caller_id=f"+1555010{n:04d}", account_number=None, reason="general",
        path=("welcome", "main_menu"),
    )  # fmt: skip


def available(center: ContactCenter, clock: StoppedClock, *agent_ids: int) -> None:
    for agent_id in agent_ids:
        assert not isinstance(center.set_availability(agent_id, True), Refused)
        clock.advance(seconds=1)


def state(center: ContactCenter, agent_id: int) -> str:
    agent = center.agent(agent_id)
    assert agent is not None
    return agent.state


# -- leases ------------------------------------------------------------------------------------


def test_an_entry_whose_holder_stops_renewing_is_abandoned_and_its_agent_freed(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    ghost = center.enqueue(caller())
    alive = center.enqueue(caller())
    assert ghost.lease_until == clock.now() + timedelta(seconds=LEASE)
    assert ghost.held_by == center.holder
    available(center, clock, ids["alice"])
    [offer] = center.dispatch()
    assert offer.entry.id == ghost.id
    for _ in range(4):  # the live holder keeps renewing; the ghost's holder is gone
        clock.advance(seconds=10)
        assert center.place(alive.id).entry.state == lc.WAITING
        center.reap()

    row = db.one("queue_entries", id=ghost.id)
    assert row["state"] == lc.ABANDONED
    assert row["wait_seconds"] == LEASE  # until the lease ran out, not until it was noticed
    assert row["lease_until"] is None
    assert state(center, ids["alice"]) in (lc.AVAILABLE, lc.RINGING)
    assert center.place(alive.id).entry.state in (lc.WAITING, lc.OFFERED)
    [reaped] = db.rows("audit_log", action="queue_lease_expired")
    assert reaped["detail"]["entry"] == ghost.id and reaped["detail"]["agent"] == "alice"
    assert center.reap().lapsed == 0  # each ghost is reaped once


def test_a_connected_call_carries_no_lease_and_completing_it_ends_it(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    entry = center.enqueue(caller())
    available(center, clock, ids["alice"])
    center.dispatch()
    center.connected(entry.id)
    clock.advance(minutes=10)  # the holder died mid-talk: nothing reaps a talk
    assert center.reap().lapsed == 0
    assert db.one("queue_entries", id=entry.id)["state"] == lc.CONNECTED
    note = center.complete(ids["alice"], entry.id, "resolved", "line went quiet")
    assert isinstance(note, Note)
    row = db.one("queue_entries", id=entry.id)
    assert (row["state"], row["talk_seconds"]) == (lc.DONE, 600)
    assert state(center, ids["alice"]) == lc.AVAILABLE


def test_renew_keeps_an_entry_alive_between_ticks_and_says_when_it_is_gone(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    entry = center.enqueue(caller())
    for _ in range(5):
        clock.advance(seconds=LEASE - 5)
        assert center.renew(entry.id)
        center.reap()
    clock.advance(seconds=LEASE + 1)
    assert center.reap().lapsed == 1
    assert not center.renew(entry.id)
    available(center, clock, ids["alice"])
    ringing = center.enqueue(caller())
    center.dispatch()
    center.place(ringing.id)  # the holder sees the offer: the lease covers the ring
    long = db.one("queue_entries", id=ringing.id)["lease_until"]
    assert center.renew(ringing.id)  # a dialogue step's renewal does not shorten it
    assert db.one("queue_entries", id=ringing.id)["lease_until"] == long
    assert center.place(entry.id).entry.state == lc.ABANDONED  # the holder sees it: Leave


def test_a_holder_taking_its_caller_out_of_line_ends_the_entry_by_the_table(
    center: ContactCenter, clock: StoppedClock, db: Db
) -> None:
    entry = center.enqueue(caller())
    clock.advance(seconds=90)
    assert center.left_line(entry.id, Trigger.MAX_WAIT)
    assert not center.left_line(entry.id, Trigger.NO_AGENTS)  # once only
    row = db.one("queue_entries", id=entry.id)
    assert (row["state"], row["wait_seconds"]) == (lc.ABANDONED, 90)
    assert db.rows("audit_log", action="queue_left")[0]["detail"]["why"] == "max_wait"
    with pytest.raises(IllegalTransition):
        center.left_line(center.enqueue(caller()).id, Trigger.LEASE_EXPIRED)  # the reaper's


# -- ring timeout ------------------------------------------------------------------------------


def test_an_offer_nobody_answers_times_out_to_the_head_of_the_line_and_the_agent_missed(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    first = center.enqueue(caller())
    clock.advance(seconds=5)
    second = center.enqueue(caller())
    available(center, clock, ids["alice"])
    [offer] = center.dispatch()
    assert offer.entry.id == first.id and offer.entry.offered_at == clock.now()
    assert center.place(first.id).agent is not None  # the holder rings alice (renews)
    clock.advance(seconds=RING + GRACE - 1)
    center.place(second.id)  # its holder is alive
    assert center.reap().rung_out == 0  # the holder's own Dial result comes first
    clock.advance(seconds=2)
    assert center.reap() == Reaped(lapsed=0, rung_out=1)

    back = center.place(first.id)
    assert back.entry.state == lc.WAITING and back.position == 1
    assert back.entry.enqueued_at == first.enqueued_at and back.entry.agent_id is None
    assert center.place(second.id).position == 2
    assert state(center, ids["alice"]) == lc.MISSED
    assert center.dispatch() == []  # not offered again...
    assert center.claim_next(ids["alice"]) is None
    available(center, clock, ids["alice"])  # ...until she says available
    [again] = center.dispatch()
    assert (again.entry.id, again.agent.username) == (first.id, "alice")
    [timeout] = db.rows("audit_log", action="queue_ring_timeout")
    assert timeout["detail"]["agent"] == "alice"


def test_the_holders_no_answer_makes_the_agent_missed_too(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int]
) -> None:
    entry = center.enqueue(caller())
    available(center, clock, ids["alice"])
    center.dispatch()
    center.not_answered(entry.id)
    assert state(center, ids["alice"]) == lc.MISSED
    clock.advance(seconds=RING + GRACE + 1)
    center.place(entry.id)
    assert center.reap() == Reaped(0, 0)  # nothing left to take back


# -- forced offline ----------------------------------------------------------------------------


def test_an_agent_ringing_can_go_offline_and_the_caller_goes_back_to_the_head(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    first = center.enqueue(caller())
    center.enqueue(caller())
    available(center, clock, ids["alice"])
    center.dispatch()
    went = center.set_availability(ids["alice"], False)
    assert isinstance(went, Agent) and went.state == lc.OFFLINE
    back = center.place(first.id)
    assert back.entry.state == lc.WAITING and back.position == 1 and back.entry.agent_id is None
    assert db.rows("audit_log", action="agent_offline")[0]["actor"] == "agent:alice"


def test_an_agent_on_a_call_going_offline_finishes_it(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    entry = center.enqueue(caller())
    available(center, clock, ids["alice"])
    center.dispatch()
    center.connected(entry.id)
    clock.advance(seconds=40)
    assert state(center, ids["alice"]) == lc.ON_CALL
    assert not isinstance(center.set_availability(ids["alice"], False), Refused)
    row = db.one("queue_entries", id=entry.id)
    assert (row["state"], row["talk_seconds"]) == (lc.DONE, 40)
    assert state(center, ids["alice"]) == lc.OFFLINE
    assert isinstance(center.complete(ids["alice"], entry.id, "other", "cut short"), Note)
    assert state(center, ids["alice"]) == lc.OFFLINE  # the note does not put her back on


def ringing_alice(center: ContactCenter, web: Web) -> tuple[int, Entry]:
    """A caller in line, alice available: the dispatcher offers her the call."""
    alice_id = web.agent("alice").id
    entry = center.enqueue(caller())
    assert not isinstance(center.set_availability(alice_id, True), Refused)
    center.dispatch()
    return alice_id, entry


def test_a_supervisor_sets_a_ringing_agent_offline_through_the_api(
    hotline: Components, clock: StoppedClock, db: Db
) -> None:
    sam = Web(hotline)
    center = sam.center
    alice_id, entry = ringing_alice(center, sam)
    assert sam.agent_state("alice") == lc.RINGING
    assert sam.sign_in("sam").status_code == 302

    assert sam.client.post(f"/api/agents/{alice_id}/offline").status_code == 403  # no token
    response = sam.api("POST", f"/api/agents/{alice_id}/offline")
    assert response.status_code == 200, response.json
    assert response.json is not None and response.json["agent"]["state"] == lc.OFFLINE
    assert center.place(entry.id).entry.state == lc.WAITING
    [forced] = db.rows("audit_log", action="agent_forced_offline")
    assert forced["actor"] == "agent:sam" and forced["detail"]["was"] == lc.RINGING
    assert sam.api("POST", "/api/agents/999/offline").status_code == 404


def test_a_supervisor_sets_an_agent_on_a_call_offline_from_the_page(
    hotline: Components, clock: StoppedClock, db: Db
) -> None:
    web = Web(hotline)
    center = web.center
    alice_id, entry = ringing_alice(center, web)
    center.connected(entry.id)
    assert web.sign_in("alice").status_code == 302
    assert web.api("POST", f"/api/agents/{alice_id}/offline").status_code == 403  # agents: no
    assert web.sign_in("sam").status_code == 302
    page = web.client.get("/supervisor/").get_data(as_text=True)
    assert f"/supervisor/agents/{alice_id}/offline" in page

    assert web.client.post(f"/supervisor/agents/{alice_id}/offline").status_code == 403
    response = web.form(f"/supervisor/agents/{alice_id}/offline")
    assert response.status_code == 302
    assert web.agent_state("alice") == lc.OFFLINE
    assert db.one("queue_entries", id=entry.id)["state"] == lc.DONE
    assert db.rows("audit_log", action="agent_forced_offline")[0]["actor"] == "agent:sam"


def test_the_console_shows_missed_in_words_with_a_way_back_to_available(
    hotline: Components, clock: StoppedClock
) -> None:
    web = Web(hotline)
    center = web.center
    alice_id, entry = ringing_alice(center, web)
    center.not_answered(entry.id)
    assert web.sign_in("alice").status_code == 302
    page = web.client.get("/").get_data(as_text=True)
    assert "Missed a call" in page and "no calls are offered to you" in page
    assert 'value="available">Go available' in page
    web.form("/availability", state="available")
    assert web.agent_state("alice") == lc.AVAILABLE
    assert web.sign_in("sam").status_code == 302
    center.dispatch()
    center.not_answered(entry.id)
    assert "Missed a call" in web.client.get("/supervisor/").get_data(as_text=True)


# -- the desk follows the offer ----------------------------------------------------------------


def test_agents_finishing_calls_out_of_id_order_write_their_dispositions(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int]
) -> None:
    low = center.enqueue(caller("general", priority=1))
    high = center.enqueue(caller("payments", priority=5))
    assert low.id < high.id
    available(center, clock, ids["alice"])
    [offer] = center.dispatch()
    assert offer.entry.id == high.id  # the higher priority (and higher id) first
    center.connected(high.id)
    center.finished(high.id)
    assert center.desk(ids["alice"]).entry.id == high.id  # type: ignore[union-attr]
    assert isinstance(center.complete(ids["alice"], high.id, "resolved", ""), Note)
    [offer] = center.dispatch()
    assert offer.entry.id == low.id
    center.connected(low.id)
    center.finished(low.id)
    desk = center.desk(ids["alice"])  # in wrap-up: the call just finished, not the newest id
    assert desk.entry is not None and desk.entry.id == low.id
    assert isinstance(center.complete(ids["alice"], low.id, "follow_up", "call back"), Note)
    assert center.desk(ids["alice"]).entry is None


# -- several reapers ---------------------------------------------------------------------------


def test_two_reapers_at_once_change_each_ghost_once(
    make_hotline: object, seeded_url: str, clock: StoppedClock, db: Db
) -> None:
    centers = []
    for _ in range(2):
        hotline = make_hotline(seeded_url, clock)  # type: ignore[operator]
        settings = replace(hotline.settings, secret_key="lease-tests", queue_lease_seconds=LEASE)
        hotline.sessions  # noqa: B018
        centers.append(ContactCenter(hotline.unit_of_work, clock, center_settings(settings)))
    one = centers[0]
    agents = {a.username: a.id for a in one.agents_view()}
    ghosts = [one.enqueue(caller()) for _ in range(12)]
    available(one, clock, agents["alice"], agents["bob"], agents["chen"])
    assert len(one.dispatch()) == 3
    clock.advance(seconds=LEASE + 1)

    counts: list[int] = []
    start = threading.Barrier(2)

    def reap(center: ContactCenter) -> None:
        start.wait()
        for _ in range(5):
            counts.append(center.reap().lapsed)

    threads = [threading.Thread(target=reap, args=(c,)) for c in centers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(counts) == len(ghosts)
    assert db.count("audit_log", action="queue_lease_expired") == len(ghosts)
    assert {db.one("queue_entries", id=g.id)["state"] for g in ghosts} == {lc.ABANDONED}
    assert {one.agent(agents[a]).state for a in ("alice", "bob", "chen")} == {lc.AVAILABLE}  # type: ignore[union-attr]


def test_every_dispatcher_round_reaps_at_most_every_few_seconds(
    center: ContactCenter, clock: StoppedClock, db: Db, tmp_path: Path
) -> None:
    dispatcher = Dispatcher(
        lambda: center, CallFileDialer(CallbackSettings(spool=tmp_path)), reap_interval=3600
    )
    first = center.enqueue(caller())
    clock.advance(seconds=LEASE + 1)
    dispatcher.run_once()  # reaps
    second = center.enqueue(caller())
    clock.advance(seconds=LEASE + 1)
    dispatcher.run_once()  # too soon to reap again: the round only dispatches
    assert db.one("queue_entries", id=first.id)["state"] == lc.ABANDONED
    assert db.one("queue_entries", id=second.id)["state"] == lc.WAITING
    dialer = CallFileDialer(CallbackSettings(spool=tmp_path))
    assert Dispatcher(lambda: center, dialer).reap(center) == Reaped(1)
