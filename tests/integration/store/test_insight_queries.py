"""The report's figures in SQL, on SQLite and PostgreSQL, from a day of known calls whose
figures were worked out by hand: the funnel, the branches, the transfers, the queues with
their service level, the calls per hour; a call the reaper closed, a record replayed from
the spool, a call in progress, and a call at 23:30 UTC that is the next day in Beijing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from integration.support import OPEN_UTC, StoppedClock
from ivr.app.bootstrap import Components
from ivr.services import insight, ports
from ivr.services.reports import build_report, period_of
from ivr.store.contact_tables import CallbackRow, QueueEntryRow
from ivr.store.schema import SchemaOutOfDate

#: The day of the known calls: midnight UTC of the suite's start date.
DAY = OPEN_UTC.replace(hour=0, minute=0, second=0, microsecond=0)
HELLO = ("choose_language", "welcome", "main_menu")
IDENTIFY = ("identify", "ask_account", "ask_pin", "check_identity")


def record(call_id: str, at: timedelta, path: tuple[str, ...], outcome: str | None,
           **more: object) -> ports.CallRecord:  # fmt: skip
    started = DAY + at
    ended = None if outcome is None else started + timedelta(minutes=2)
    values: dict[str, object] = {
        "call_id": call_id, "channel": "fastagi", "caller_id": "+8613800138001",
        "language": "en", "reason": None, "account_number": None, "path": path,
        "last_node": path[-1], "outcome": outcome, "queue": None, "started_at": started,
        "ended_at": ended, "seen_at": ended or started,
    }  # fmt: skip
    values.update(more)
    return ports.CallRecord(**values)  # type: ignore[arg-type]


KNOWN = (
    # self-service did it: contained, verified; a timeout at the menu, two wrong accounts
    record("solved", timedelta(hours=9, minutes=10),
           (*HELLO, "reset_intro", *IDENTIFY, "after_verify", "reset_send_code",
            "reset_code_sent", "anything_else", "goodbye"), "solved",
           reason="password_reset", verification="success",
           timeouts={"main_menu": 1}, invalid={"ask_account": 2}),
    # hung up at the main menu after a wrong key
    record("hung-up", timedelta(hours=9, minutes=50), HELLO, "abandoned",
           invalid={"main_menu": 1}),
    # pressed 0: a person, from the main menu
    record("to-agent", timedelta(hours=10, minutes=5), (*HELLO, "agent_hours", "agent"),
           "queued", handoff_node="main_menu", handoff="chose", queue="general"),
    # locked out: the security team
    record("locked", timedelta(hours=10, minutes=20),
           (*HELLO, "security_intro", *IDENTIFY, "account_locked", "security_queue"),
           "queued", reason="security", verification="locked",
           handoff_node="check_identity", handoff="locked", queue="security"),
    # wrong PIN three times: a person; the main menu visited twice
    record("not-verified", timedelta(hours=11),
           (*HELLO, "payment_intro", *IDENTIFY, "main_menu", "agent_hours", "agent"),
           "queued", reason="payment_failure", verification="failure",
           timeouts={"ask_pin": 2}, handoff_node="check_identity",
           handoff="verify_failed", queue="general"),
    # the day before: not in the period
    record("yesterday", timedelta(hours=-1), HELLO, "abandoned"),
)  # fmt: skip


def save(hotline: Components, *records: ports.CallRecord) -> None:
    for version in records:
        assert hotline.use_cases.record_call(version)


def entry(queue: str, at: timedelta, state: str, wait: int, talk: int | None = None,
          kind: str = "call") -> QueueEntryRow:  # fmt: skip
    enqueued = DAY + at
    answered = enqueued + timedelta(seconds=wait) if talk is not None else None
    return QueueEntryRow(
        kind=kind, call_id=f"q-{queue}-{at.total_seconds():g}", queue=queue, priority=1,
        skill=queue, language="en", caller_id="+8613800138001", path=[],
        enqueued_at=enqueued, state=state, answered_at=answered,
        ended_at=enqueued + timedelta(seconds=wait + (talk or 0)), wait_seconds=wait,
        talk_seconds=talk,
    )  # fmt: skip


def callback(entry_id: int, state: str, at: timedelta) -> CallbackRow:
    created = DAY + at
    return CallbackRow(
        entry_id=entry_id, number="+8613800138001", language="en", queue="general",
        code_salt="s", code_hash=f"h-{state}-{at.total_seconds():g}", created_at=created,
        expires_at=created + timedelta(hours=4), attempts=1, max_attempts=3, state=state,
    )  # fmt: skip


def queue_known(hotline: Components) -> None:
    """General: 4 callers (answered after 10 s and 30 s, talks of 100 s and 200 s; hung up
    after 5 s and 40 s); security: 1 answered after 25 s (60 s); a callback request with
    three callbacks (done, failed, expired); one caller the day before."""
    with hotline.sessions() as session:
        session.add_all([
            entry("general", timedelta(hours=10, minutes=6), "done", 10, 100),
            entry("general", timedelta(hours=10, minutes=30), "done", 30, 200),
            entry("general", timedelta(hours=11, minutes=1), "abandoned", 5),
            entry("general", timedelta(hours=11, minutes=2), "abandoned", 40),
            entry("security", timedelta(hours=10, minutes=21), "done", 25, 60),
            entry("general", timedelta(hours=-2), "done", 1, 10),
        ])  # fmt: skip
        request = entry("general", timedelta(hours=12), "done", 0, 50, kind="callback")
        session.add(request)
        session.flush()
        for minutes, state in enumerate(("done", "failed", "expired")):
            session.add(callback(request.id, state, timedelta(hours=12, minutes=minutes)))
        session.commit()


def day_report(hotline: Components, levels: dict[str, int] | None = None) -> insight.Report:
    period = insight.Period(DAY, DAY + timedelta(days=1), "UTC")
    if levels is None:
        return build_report(hotline.unit_of_work, hotline.flow, period)
    with hotline.unit_of_work() as uow:
        return uow.insight.report(period, {}, levels)


def test_the_funnel_counts_each_node_of_the_known_calls(hotline: Components) -> None:
    save(hotline, *KNOWN)
    report = day_report(hotline)

    assert (report.calls, report.in_progress) == (5, 0)
    figures = {n.node: n for n in report.nodes}
    menu = figures["main_menu"]
    assert (menu.kind, menu.entered, menu.hung_up, menu.timed_out, menu.invalid) == (
        "menu", 5, 1, 1, 1,
    )  # fmt: skip
    assert menu.to_person == 1 and menu.drop_rate == pytest.approx(0.2)
    assert (figures["ask_account"].entered, figures["ask_account"].invalid) == (3, 2)
    assert figures["ask_pin"].timed_out == 2
    assert figures["check_identity"].to_person == 2
    assert (figures["agent"].kind, figures["agent"].entered) == ("queue", 2)
    assert figures["closure_intro"].entered == 0  # in the flow, no call: still listed
    assert "yesterday" not in {n.node for n in report.nodes}


def test_branches_say_what_self_service_solved_and_why_calls_went_to_a_person(
    hotline: Components,
) -> None:
    save(hotline, *KNOWN)
    report = day_report(hotline)

    branches = {b.reason: b for b in report.branches}
    assert branches[None] == insight.BranchFigures(None, 2, 0, 1, 1, 0, 0, 0)
    assert branches["password_reset"] == insight.BranchFigures(
        "password_reset", 1, 1, 0, 0, 1, 0, 0
    )
    assert branches["password_reset"].containment == 1.0
    assert branches["security"] == insight.BranchFigures("security", 1, 0, 1, 0, 0, 0, 1)
    assert branches["payment_failure"].verify_failed == 1
    assert set(report.transfers) == {
        insight.TransferFigures(None, "main_menu", "chose", 1),
        insight.TransferFigures("security", "check_identity", "locked", 1),
        insight.TransferFigures("payment_failure", "check_identity", "verify_failed", 1),
    }


def test_queue_figures_and_service_level_per_queue(hotline: Components) -> None:
    queue_known(hotline)
    report = day_report(hotline)

    queues = {q.queue: q for q in report.queues}
    general = queues["general"]
    assert (general.offered, general.answered, general.abandoned) == (4, 2, 2)
    assert general.abandoned_wait == pytest.approx(22.5)
    assert (general.service_level_seconds, general.answered_within) == (20, 1)
    assert general.abandoned_within == 1  # hung up after 5 s: not held against the queue
    assert general.service_level == pytest.approx(1 / 3)
    assert general.speed_of_answer == pytest.approx(20.0)
    assert general.handle_time == pytest.approx(150.0)
    assert (general.callbacks_requested, general.callbacks_completed) == (3, 1)
    assert general.callbacks_failed == 2
    assert (queues["security"].answered_within, queues["security"].handle_time) == (0, 60.0)
    assert queues["payments"].offered == 0 and queues["payments"].service_level is None
    # a 30-second target for security: its caller answered after 25 s is within it
    assert day_report(hotline, {"security": 30}).queues[0].answered_within == 1


def test_calls_per_hour_in_the_period_time_zone(hotline: Components) -> None:
    save(hotline, *KNOWN)
    queue_known(hotline)
    hours = {h.hour.hour: h for h in day_report(hotline).hours}

    assert len(hours) == 24
    assert (hours[9].calls, hours[10].calls, hours[11].calls, hours[12].calls) == (2, 2, 1, 0)
    assert (hours[10].offered, hours[10].answered_within, hours[11].offered) == (3, 1, 2)
    assert hours[12].offered == 0  # the callback request is not a caller in the queue


def test_a_call_at_half_past_eleven_utc_is_the_next_day_in_beijing(
    hotline: Components,
) -> None:
    late = record("late", timedelta(hours=23, minutes=30), HELLO, "abandoned")
    save(hotline, late)
    day = DAY.date()

    that_day = build_report(
        hotline.unit_of_work, hotline.flow, period_of(day, day, "Asia/Shanghai")
    )
    next_day = period_of(day + timedelta(days=1), day + timedelta(days=1), "Asia/Shanghai")
    report = build_report(hotline.unit_of_work, hotline.flow, next_day)

    assert (that_day.calls, report.calls) == (0, 1)
    busy = [h for h in report.hours if h.calls]
    assert [(h.hour.hour, h.hour.minute, h.hour.utcoffset()) for h in busy] == [
        (7, 0, timedelta(hours=8))
    ]
    india = period_of(day, day + timedelta(days=1), "Asia/Kolkata")
    busy = [h for h in build_report(hotline.unit_of_work, hotline.flow, india).hours if h.calls]
    assert [(h.hour.day, h.hour.hour) for h in busy] == [((DAY + timedelta(days=1)).day, 5)]


def test_a_call_the_reaper_closed_is_hung_up_at_its_last_node(
    hotline: Components, clock: StoppedClock
) -> None:
    started = clock.now() - timedelta(minutes=30)
    dead = record("dead", started - DAY, HELLO, None, timeouts={"main_menu": 2})
    live = record("live", clock.now() - DAY, ("choose_language",), None, seen_at=clock.now())
    save(hotline, dead, live)
    period = insight.Period(started - timedelta(hours=1), started + timedelta(hours=1), "UTC")
    before = build_report(hotline.unit_of_work, hotline.flow, period)

    with hotline.unit_of_work() as uow:
        assert uow.calls.close_interrupted(clock.now() - timedelta(minutes=5), 10) == ["dead"]
        uow.commit()
    after = build_report(hotline.unit_of_work, hotline.flow, period)

    assert (before.calls, before.in_progress, before.node("main_menu").entered) == (0, 2, 0)
    menu = after.node("main_menu")
    assert (after.calls, after.in_progress) == (1, 1)
    assert (menu.entered, menu.hung_up, menu.timed_out) == (1, 1, 2)
    assert after.branches == (insight.BranchFigures(None, 1, 0, 0, 1, 0, 0, 0),)

    # the call's own closed version, replayed from the spool later, wins: counted once
    end = started + timedelta(minutes=3)
    real = replace(
        dead, path=(*HELLO, "goodbye"), last_node="goodbye", outcome="solved", ended_at=end,
        seen_at=end,
    )  # fmt: skip
    save(hotline, real, real)
    final = build_report(hotline.unit_of_work, hotline.flow, period)
    assert (final.node("main_menu").entered, final.node("main_menu").hung_up) == (1, 0)
    assert final.node("goodbye").entered == 1 and final.calls == 1


def test_a_closed_record_saved_twice_and_a_late_open_version_count_once(
    hotline: Components,
) -> None:
    solved = KNOWN[0]
    opened = replace(solved, outcome=None, ended_at=None, path=HELLO, last_node="main_menu",
                     seen_at=solved.started_at + timedelta(seconds=20))  # fmt: skip
    save(hotline, solved, opened, solved)
    report = day_report(hotline)

    assert report.calls == 1 and report.node("goodbye").entered == 1
    assert report.node("main_menu").entered == 1


def test_an_unknown_time_zone_is_a_clear_error(hotline: Components) -> None:
    period = insight.Period(DAY, DAY + timedelta(days=1), "Mars/Olympus")
    with pytest.raises(Exception, match="unknown time zone 'Mars/Olympus'"):
        build_report(hotline.unit_of_work, hotline.flow, period)


def test_the_report_refuses_a_database_without_the_hotline_tables(
    make_hotline: Callable[..., Components], tmp_path: Path
) -> None:
    hotline = make_hotline(f"sqlite:///{tmp_path}/no-such-folder/ivr.sqlite3")
    period = insight.Period(DAY, DAY + timedelta(days=1), "UTC")
    with pytest.raises(SchemaOutOfDate, match="run `ivr db upgrade`"):
        build_report(hotline.unit_of_work, hotline.flow, period)
