"""``ivr seed --demo --calls N``: a month of simulated calls through the real engine and
store, the same for the same seed, said (not added twice) when run again, and refused
with a clear message for a count it will not make."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integration.conftest import hotline_settings
from integration.support import FLOW_PATH, OPEN_UTC, Db
from ivr.app import cli
from ivr.app.bootstrap import Components, bootstrap
from ivr.flow.engine import Engine
from ivr.flow.loader import load_flow
from ivr.services.demo_calls import SPAN, Callers
from ivr.services.insight import Period
from ivr.services.registry import HOTLINE_ACTIONS
from ivr.services.reports import build_report


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_demo_calls_fill_a_month_the_report_reads(
    upgraded_url: str,
    ivr_env: list[Components],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("IVR_DATABASE_URL", upgraded_url)
    db = Db(upgraded_url)
    try:
        code, out, _ = run(capsys, "seed", "--demo", "--calls", "300", "--seed", "5")
        assert code == 0 and "demo calls: 300 added (seed 5" in out
        records = db.rows("call_records")
        assert len(records) == 300 and all(r["outcome"] for r in records)
        assert db.count("call_node_visits") > 300 * 3
        assert db.count("queue_entries", kind="call") == sum(1 for r in records if r["queue"])
        starts = [r["started_at"].replace(tzinfo=None) for r in records]  # stored as UTC
        now = OPEN_UTC.replace(tzinfo=None)
        assert now - SPAN <= min(starts) and max(starts) <= now
        first = db.dump()

        code, out, _ = run(capsys, "seed", "--demo", "--calls", "300", "--seed", "5")
        assert code == 0 and "300 of seed 5 already there; add more with --seed 6" in out
        assert db.dump() == first

        hotline = bootstrap(hotline_settings(upgraded_url), clock=None)
        ivr_env.append(hotline)
        period = Period(OPEN_UTC - SPAN - timedelta(days=1), OPEN_UTC + timedelta(hours=1), "UTC")
        report = build_report(hotline.unit_of_work, hotline.flow, period)
        assert report.calls == 300
        assert report.node("main_menu").entered > 200  # type: ignore[union-attr]
        assert sum(q.offered for q in report.queues) == db.count("queue_entries", kind="call")
        assert sum(h.calls for h in report.hours) == 300
    finally:
        db.close()


def test_the_same_seed_makes_the_same_calls() -> None:
    engine = Engine(load_flow(FLOW_PATH, HOTLINE_ACTIONS))
    one = Callers(engine, 3, "Asia/Shanghai").calls(50, OPEN_UTC)
    two = Callers(engine, 3, "Asia/Shanghai").calls(50, OPEN_UTC)
    other = Callers(engine, 4, "Asia/Shanghai").calls(50, OPEN_UTC)
    assert one == two and one != other
    assert all("246810" not in str(call.record) for call in one)


def test_a_count_out_of_range_is_refused(
    upgraded_url: str,
    ivr_env: list[Components],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("IVR_DATABASE_URL", upgraded_url)
    code, _, err = run(capsys, "seed", "--demo", "--calls", "-5")
    assert code == 2 and "--calls must be from 1 to" in err


def test_demo_calls_bring_survey_answers_and_complaints_at_every_stage(
    upgraded_url: str,
    ivr_env: list[Components],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With the demo accounts and agents there, callers answered by an agent with the
    queue's skill give survey scores, and the complaints opened are open, acknowledged or
    resolved as the flow's standard and the clock's now allow."""
    monkeypatch.setenv("IVR_DATABASE_URL", upgraded_url)
    db = Db(upgraded_url)
    try:
        assert run(capsys, "seed", "--demo")[0] == 0
        code, out, _ = run(capsys, "seed", "--demo", "--calls", "600", "--seed", "7")
        assert code == 0, out
        skills = {row["id"]: row["skills"] for row in db.rows("agents")}
        answers = db.rows("survey_answers")
        assert answers and all(1 <= a["score"] <= 5 for a in answers)
        flow = load_flow(FLOW_PATH, HOTLINE_ACTIONS)
        surveyed = {name for name, spec in flow.queues.items() if spec.policy.after_agent}
        assert {a["queue"] for a in answers} <= surveyed  # the flow's after_agent queues
        assert all(a["queue"] in skills[a["agent_id"]] for a in answers if a["agent_id"])
        complaints = db.rows("complaints")
        assert complaints
        now = OPEN_UTC.replace(tzinfo=None)
        for row in complaints:
            created, resolved = row["created_at"], row["resolved_at"]
            assert (row["state"] == "resolved") == (resolved is not None)
            naive = [t.replace(tzinfo=None) if t else None for t in (created, resolved)]
            assert naive[1] is None or naive[0] < naive[1] <= now  # stored as UTC
            assert db.count("complaint_events", complaint_id=row["id"]) >= 1

        hotline = bootstrap(hotline_settings(upgraded_url), clock=None)
        ivr_env.append(hotline)
        period = Period(OPEN_UTC - SPAN - timedelta(days=1), OPEN_UTC + timedelta(hours=1), "UTC")
        report = build_report(hotline.unit_of_work, hotline.flow, period, OPEN_UTC)
        assert report.surveys[0].responses == len(answers)
        assert report.complaints["opened"] == len(complaints)
        assert report.complaints["open"] == sum(r["state"] != "resolved" for r in complaints)
    finally:
        db.close()


def test_demo_callers_speak_when_the_flow_records_them() -> None:
    """A record node (the complaint's message) gets words or silence, never a hang-up."""
    engine = Engine(load_flow(FLOW_PATH, HOTLINE_ACTIONS))
    calls = Callers(engine, 11, "Asia/Shanghai").calls(3000, OPEN_UTC)
    recorded = [c.record for c in calls if "complaint_message" in c.record.path]
    assert recorded
    assert all(r.last_node != "complaint_message" for r in recorded)
