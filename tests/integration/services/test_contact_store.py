"""The contact center on a real database (SQLite and PostgreSQL): the queue, agents,
wrap-up, callbacks with reference codes, resuming by code, the agent desk."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from integration.support import EMMA, LI_WEI, Db, StoppedClock
from ivr.app.bootstrap import Components, center_settings
from ivr.app.config import Settings
from ivr.center import lifecycle as lc
from ivr.services import tokens
from ivr.services.agents_demo import DEMO_AGENTS
from ivr.services.contact_center import (
    Assignment,
    CallbackRefused,
    ContactCenter,
    Note,
    Refused,
    WaitingCall,
)

PRIORITY = {"security": 10, "payments": 5, "closure": 3, "general": 1}
SECRET = "integration-test-secret"
_serial = itertools.count(1)


@pytest.fixture
def center(hotline: Components, clock: StoppedClock) -> ContactCenter:
    settings = replace(hotline.settings, secret_key=SECRET, wrap_up_seconds=30)
    hotline.sessions  # noqa: B018 - the schema check
    return ContactCenter(hotline.unit_of_work, clock, center_settings(settings))


@pytest.fixture
def ids(center: ContactCenter) -> dict[str, int]:
    """The demo agents' ids by username."""
    return {agent.username: agent.id for agent in center.agents_view()}


def caller(queue: str = "general", language: str = "en", **more: object) -> WaitingCall:
    n = next(_serial)
    values: dict[str, object] = {
        "call_id": f"call-{n}",
        "queue": queue,
        "priority": PRIORITY[queue],
        "skill": queue,
        "language": language,
        "caller_id": f"+1555000{n:04d}",
        "account_number": None,
        "reason": "general",
        "path": ("welcome", "main_menu"),
    }
    values.update(more)
    return WaitingCall(**values)  # type: ignore[arg-type]


def available(center: ContactCenter, clock: StoppedClock, *agent_ids: int) -> None:
    """Make agents available one second apart (the first named is the longest idle)."""
    for agent_id in agent_ids:
        assert not isinstance(center.set_availability(agent_id, True), Refused)
        clock.advance(seconds=1)


# -- the queue ---------------------------------------------------------------------------------


def test_dispatch_offers_by_priority_then_wait_to_the_longest_idle_agent_who_can(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    general = center.enqueue(caller("general"))
    clock.advance(seconds=5)
    payments = center.enqueue(caller("payments"))
    clock.advance(seconds=5)
    zh_security = center.enqueue(caller("security", "zh"))
    assert [p.entry.id for p in center.queue_view()] == [zh_security.id, payments.id, general.id]

    available(center, clock, ids["bob"], ids["alice"])  # bob has been idle longest
    made = {a.agent.username: a.entry.id for a in center.dispatch()}
    # bob (general, closure, security; en) cannot take zh security nor payments: general.
    # alice (general, payments; en, zh) has no security: payments.
    assert made == {"bob": general.id, "alice": payments.id}
    assert center.agent(ids["bob"]).state == lc.RINGING  # type: ignore[union-attr]
    assert [p.entry.id for p in center.queue_view() if p.entry.state == lc.WAITING] == [
        zh_security.id
    ]
    offered = center.place(payments.id)
    assert offered.entry.state == lc.OFFERED and offered.agent is not None
    assert offered.agent.endpoint == "agent-alice"
    assert center.dispatch() == []  # nobody free
    audit = db.rows("audit_log", action="queue_offered")
    assert {row["detail"]["agent"] for row in audit} == {"alice", "bob"}


def test_place_counts_due_waiting_entries_ahead_in_the_same_queue(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int]
) -> None:
    first = center.enqueue(caller("payments"))
    center.enqueue(caller("general"))  # another queue: not ahead
    clock.advance(seconds=1)
    second = center.enqueue(caller("payments"))
    place = center.place(second.id)
    assert place.position == 2
    assert place.estimate_seconds == 2 * 180  # no history, nobody staffed counts as 1
    available(center, clock, ids["alice"], ids["chen"])  # two payments agents
    assert center.place(second.id).estimate_seconds == 180
    assert center.place(first.id).position == 1


def test_connected_finished_wrap_up_and_disposition(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    entry = center.enqueue(caller("payments", account_number=LI_WEI[0]))
    clock.advance(seconds=20)
    available(center, clock, ids["alice"])
    [assignment] = center.dispatch()
    center.connected(entry.id)
    assert center.agent(ids["alice"]).state == lc.ON_CALL  # type: ignore[union-attr]
    assert isinstance(center.set_availability(ids["alice"], True), Refused)  # on a call
    clock.advance(seconds=100)
    center.finished(entry.id)
    center.finished(entry.id)  # twice changes nothing
    row = db.one("queue_entries", id=entry.id)
    assert (row["state"], row["wait_seconds"], row["talk_seconds"]) == ("done", 21, 100)
    alice = center.agent(ids["alice"])
    assert alice is not None and alice.state == lc.WRAP_UP
    assert alice.wrap_up_until == clock.now() + timedelta(seconds=30)

    desk = center.desk(ids["alice"])
    assert desk.entry is not None and desk.entry.id == entry.id
    assert center.desk(ids["alice"]) == desk  # a console refreshing its screen pop...
    viewed = db.rows("audit_log", action="desk_viewed")
    assert [r["actor"] for r in viewed] == ["agent:alice"]  # ...is logged once
    assert isinstance(center.complete(ids["alice"], entry.id, "nonsense", ""), Refused)
    assert isinstance(center.complete(ids["bob"], entry.id, "resolved", ""), Refused)
    note = center.complete(ids["alice"], entry.id, "resolved", " refunded the fee ")
    assert isinstance(note, Note) and note.text == "refunded the fee"
    assert center.agent(ids["alice"]).state == lc.AVAILABLE  # type: ignore[union-attr]
    assert isinstance(center.complete(ids["alice"], entry.id, "other", ""), Refused)
    assert center.desk(ids["alice"]).entry is None  # noted: nothing left on the desk
    assert db.one("agent_notes", entry_id=entry.id)["account_number"] == LI_WEI[0]

    # the next call about the same account pops the earlier note
    again = center.enqueue(caller("payments", account_number=LI_WEI[0]))
    [offer] = center.dispatch()
    assert offer.entry.id == again.id
    desk = center.desk(ids["alice"])
    assert [n.text for n in desk.notes] == ["refunded the fee"]
    assert desk.notes[0].agent_name == "Alice Martin"
    assert db.count("audit_log", action="call_noted") == 1
    assert center.place(again.id).estimate_seconds == 100  # AHT of the one handled call
    stats = center.stats()["payments"]
    assert (stats.handled_today, stats.aht_seconds) == (1, 100)


def test_an_expired_wrap_up_counts_as_available(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int]
) -> None:
    first = center.enqueue(caller("closure"))
    available(center, clock, ids["bob"])
    center.dispatch()
    center.connected(first.id)
    center.finished(first.id)
    second = center.enqueue(caller("closure"))
    assert center.dispatch() == []  # in wrap-up
    assert center.claim_next(ids["bob"]) is None
    clock.advance(seconds=30)
    center.place(second.id)  # its holder is still there (renews the lease)
    [assignment] = center.dispatch()
    assert (assignment.agent.username, assignment.entry.id) == ("bob", second.id)


def test_agent_no_answer_puts_the_caller_back_at_the_head_and_the_agent_missed(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    first = center.enqueue(caller("general"))
    clock.advance(seconds=10)
    later = center.enqueue(caller("general"))
    available(center, clock, ids["bob"])
    [offer] = center.dispatch()
    assert offer.entry.id == first.id
    center.not_answered(first.id)
    assert center.agent(ids["bob"]).state == lc.MISSED  # type: ignore[union-attr]
    assert center.dispatch() == []  # bob is offered nothing until he says available
    back = center.place(first.id)
    assert back.entry.state == lc.WAITING and back.entry.enqueued_at == first.enqueued_at
    assert back.position == 1 and center.place(later.id).position == 2
    available(center, clock, ids["alice"])
    assert center.claim_next(ids["alice"]).entry.id == first.id  # type: ignore[union-attr]
    assert db.count("audit_log", action="agent_no_answer") == 1


def test_abandoned_records_the_wait_and_frees_a_ringing_agent(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    waiting = center.enqueue(caller("general"))
    clock.advance(seconds=42)
    center.abandoned(waiting.id)
    assert db.one("queue_entries", id=waiting.id)["wait_seconds"] == 42
    offered = center.enqueue(caller("general"))
    available(center, clock, ids["bob"])
    center.dispatch()
    center.abandoned(offered.id)
    assert center.agent(ids["bob"]).state == lc.AVAILABLE  # type: ignore[union-attr]
    assert center.stats()["general"].abandoned_today == 2


def test_agents_sign_in_with_their_demo_passwords(center: ContactCenter) -> None:
    for demo in DEMO_AGENTS:
        agent = center.authenticate(demo.username, demo.password)
        assert agent is not None and agent.endpoint == demo.endpoint
        assert agent.skills == demo.skills and agent.languages == demo.languages
    assert center.authenticate("alice", "bob-demo") is None
    assert center.authenticate("nobody", "alice-demo") is None
    assert {a.username for a in center.agents_view()} == {"alice", "bob", "chen", "sam"}


# -- callbacks ---------------------------------------------------------------------------------


def test_a_callback_keeps_its_place_and_its_code_is_only_hashed(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    early = center.enqueue(caller("general", account_number=EMMA[0], reason="payment_failure"))
    clock.advance(seconds=30)
    late = center.enqueue(caller("general"))
    callback, code = center.request_callback(early.id, "+14155550102")
    assert tokens.well_formed(code) and center.callback_code(callback.id) == code
    row = db.one("callbacks", id=callback.id)
    assert code not in str(row) and row["code_hash"] == tokens.hash_code(SECRET.encode(), code)
    assert (row["state"], row["attempts"], row["max_attempts"]) == ("waiting", 0, 3)
    assert callback.expires_at == clock.now() + timedelta(hours=24)
    assert center.callbacks_view() == [callback]
    entry = db.one("queue_entries", id=early.id)
    assert (entry["kind"], entry["state"], entry["callback_id"]) == ("callback", "waiting", 1)
    assert db.one("audit_log", action="callback_requested")["detail"]["to_last4"] == "0102"
    with pytest.raises(CallbackRefused):
        center.request_callback(early.id, "+1")

    available(center, clock, ids["bob"])
    [offer] = center.dispatch()
    assert offer.entry.id == early.id  # ahead of the later live caller
    [due] = center.due_callbacks()
    assert due.entry.id == early.id and due.agent.username == "bob"
    assert center.due_callbacks() == []  # returned once only
    assert isinstance(center.call_now(callback.id, ids["alice"]), Refused)
    center.callback_answered(callback.id)
    center.connected(early.id)
    center.finished(early.id)
    done = db.one("callbacks", id=callback.id)
    assert (done["state"], done["attempts"]) == ("done", 1) and done["used_at"] is not None
    refused = center.call_now(callback.id, ids["alice"])
    assert refused == Refused("callback already done")
    assert center.place(late.id).position == 1


def test_a_failed_callback_is_retried_in_five_minutes_three_times_then_fails(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    entry = center.enqueue(caller("closure"))
    callback, _ = center.request_callback(entry.id, "+15551234567")
    available(center, clock, ids["bob"])
    for attempt in (1, 2, 3):
        [offer] = center.dispatch()
        [due] = center.due_callbacks()
        after = center.callback_failed(callback.id, "NOANSWER")
        assert after.attempts == attempt
        assert center.agent(ids["bob"]).state == lc.AVAILABLE  # type: ignore[union-attr]
        if attempt < 3:
            assert after.state == lc.CB_WAITING
            assert center.dispatch() == []  # not before five minutes
            clock.advance(minutes=5)
    assert after.state == lc.CB_FAILED
    assert db.one("queue_entries", id=entry.id)["state"] == "failed"
    clock.advance(minutes=5)
    assert center.dispatch() == [] and center.due_callbacks() == []
    assert center.callback_failed(callback.id, "again").state == lc.CB_FAILED  # idempotent


def test_call_now_offers_a_waiting_callback_once(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int]
) -> None:
    entry = center.enqueue(caller("security", "zh"))
    callback, _ = center.request_callback(entry.id, "+8613800000000")
    assert center.call_now(callback.id, ids["chen"]) == Refused("agent is offline")
    available(center, clock, ids["chen"], ids["sam"])
    made = center.call_now(callback.id, ids["chen"])
    assert isinstance(made, Assignment) and made.agent.username == "chen"
    assert center.call_now(callback.id, ids["sam"]) == Refused(
        "callback already offered to an agent"
    )
    [due] = center.due_callbacks()
    assert center.call_now(callback.id, ids["sam"]) == Refused("callback is being dialled")
    assert center.due_callbacks() == []


def test_an_expired_callback_is_never_dialled_and_its_code_says_expired(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    entry = center.enqueue(caller("general"))
    callback, code = center.request_callback(entry.id, "+15550001111")
    clock.advance(hours=24)
    available(center, clock, ids["bob"])
    assert center.dispatch() == [] and center.due_callbacks() == []
    assert db.one("callbacks", id=callback.id)["state"] == "expired"
    assert center.resume(code, "+15550001111", "call-x").outcome == "expired"
    assert center.call_now(callback.id, ids["bob"]) == Refused("callback expired")


def test_resume_by_code_takes_over_the_place_and_the_code_is_used(
    center: ContactCenter, clock: StoppedClock, db: Db
) -> None:
    entry = center.enqueue(
        caller("payments", "zh", account_number=LI_WEI[0], reason="payment_failure")
    )
    callback, code = center.request_callback(entry.id, LI_WEI[2])
    clock.advance(minutes=20)
    center.enqueue(caller("payments"))  # a later caller
    result = center.resume(code, LI_WEI[2], "call-back-in")
    assert result.outcome == "ok" and result.entry is not None and result.callback is not None
    assert result.callback.state == lc.CB_CANCELLED
    assert (result.entry.reason, result.entry.account_number) == ("payment_failure", LI_WEI[0])
    assert result.entry.state == lc.RESUMED and result.entry.kind == lc.CALL
    resumed = center.enqueue(
        caller("payments", "zh", call_id="call-back-in", resume_entry=result.entry.id)
    )
    assert resumed.id == entry.id and resumed.enqueued_at == entry.enqueued_at
    assert resumed.account_number == LI_WEI[0] and center.place(resumed.id).position == 1
    assert center.resume(code, LI_WEI[2], "call-again").outcome == "used"
    audit = db.rows("audit_log", action="callback_resumed")
    assert [(r["account_number"], r["detail"]["outcome"]) for r in audit] == [
        (LI_WEI[0], "ok"),
        (LI_WEI[0], "used"),
    ]
    # a resume entry id that was not resumed by this call makes a fresh entry
    fresh = center.enqueue(caller("payments", resume_entry=entry.id))
    assert fresh.id != entry.id


def test_five_wrong_codes_lock_the_caller_number_for_30_minutes(
    center: ContactCenter, clock: StoppedClock
) -> None:
    entry = center.enqueue(caller("general"))
    _, code = center.request_callback(entry.id, "+15550002222")
    wrong = "000000" if code != "000000" else "111111"
    outcomes = []
    for _ in range(5):
        outcomes.append(center.resume(wrong, "+15559999999", "call-guess").outcome)
        clock.advance(minutes=2)
    assert outcomes == ["wrong"] * 4 + ["locked"]
    assert center.resume(code, "+15559999999", "call-guess").outcome == "locked"
    assert center.resume("12", "+15558888888", "other").outcome == "wrong"  # per number
    clock.advance(minutes=30)
    assert center.resume(code, "+15559999999", "call-guess").outcome == "ok"


def test_stats_and_views(center: ContactCenter, clock: StoppedClock, ids: dict[str, int]) -> None:
    center.enqueue(caller("security", "zh"))
    clock.advance(seconds=90)
    entry = center.enqueue(caller("general"))
    center.request_callback(entry.id, "+15550003333")
    stats = center.stats()
    assert list(stats)[:4] == ["security", "payments", "closure", "general"]
    assert stats["security"].waiting == 1 and stats["security"].longest_wait_seconds == 90
    assert stats["general"].callbacks_pending == 1
    assert [c.state for c in center.callbacks_view()] == ["waiting"]
    assert len(center.queue_view()) == 2


def test_the_secret_key_file_is_made_once_0600(tmp_path: Path) -> None:
    key_file = tmp_path / "var" / "secret.key"
    settings = Settings(Path("callflows.yaml"), "sqlite://", "WARNING", secret_key_file=key_file)
    first = settings.secret()
    assert first == settings.secret() and len(first) == 64
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_two_active_callbacks_cannot_share_a_code_hash(db: Db) -> None:
    """The partial unique index of migration 0002 (not declared on the model)."""
    import sqlalchemy

    db.execute(
        "INSERT INTO queue_entries (kind, call_id, queue, priority, skill, language, caller_id,"
        " path, state, enqueued_at) VALUES ('callback', 'c1', 'general', 1, 'general', 'en',"
        " '5551234', '[]', 'waiting', CURRENT_TIMESTAMP)"
    )
    entry = db.one("queue_entries", call_id="c1")["id"]
    row = (
        "INSERT INTO callbacks (entry_id, number, language, queue, code_salt, code_hash, state,"
        " attempts, max_attempts, created_at, expires_at) VALUES (:entry, '5551234', 'en',"
        " 'general', :salt, 'h', :state, 0, 3, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    db.execute(row, entry=entry, salt="s1", state="done")
    db.execute(row, entry=entry, salt="s2", state="waiting")  # a used code may come back
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        db.execute(row, entry=entry, salt="s3", state="dialing")
