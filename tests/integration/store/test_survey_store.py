"""Survey answers and recordings in the database, on SQLite and PostgreSQL: the report's
survey figures per queue, per agent and in all, over a period; the recordings' retention
(files and rows past it go, newer ones stay, a file that cannot be deleted keeps its row);
``record_survey`` with the store down gives ``error``, not a crash."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from integration.support import Db, StoppedClock
from ivr.app.bootstrap import Components
from ivr.app.dispatcher import Dispatcher
from ivr.flow.actions import RunAction
from ivr.phone.asterisk.call_files import CallbackSettings
from ivr.phone.asterisk.channel import CallFileDialer
from ivr.services.insight import Period, SurveyFigures
from ivr.services.recording_upkeep import RecordingUpkeep
from ivr.services.survey_ports import Recording, SurveyAnswer
from ivr.services.surveys import record_survey
from ivr.store.recording_files import RecordingFolder
from ivr.store.survey_queries import survey_figures


def agent_ids(db: Db) -> dict[str, int]:
    return {row["username"]: row["id"] for row in db.rows("agents")}


def test_the_figures_are_per_queue_per_agent_and_in_all_within_the_period(
    hotline: Components, db: Db, clock: StoppedClock
) -> None:
    ids = agent_ids(db)
    answers = hotline.survey_answers
    now = clock.now()
    for call, score, queue, agent, comment, hours in [
        ("c1", 5, "payments", "alice", "rec-1", 1),
        ("c2", 3, "payments", "bob", None, 2),
        ("c3", 4, "closure", "bob", None, 3),
        ("c4", 2, None, None, "rec-4", 4),  # after self-service
        ("c5", 1, "payments", "alice", None, 30),  # before the period
    ]:
        at = now - timedelta(hours=hours)
        answers.add(SurveyAnswer(call, score, at, queue, ids[agent] if agent else None, comment))
    period = Period(now - timedelta(hours=24), now + timedelta(hours=1), "Asia/Shanghai")
    with hotline.sessions() as session:
        figures = survey_figures(session, period)
    assert figures == (
        SurveyFigures("all", "", 4, 3.5, 2),
        SurveyFigures("queue", "closure", 1, 4.0, 0),
        SurveyFigures("queue", "payments", 2, 4.0, 1),
        SurveyFigures("agent", "alice", 1, 5.0, 1),
        SurveyFigures("agent", "bob", 2, 3.5, 0),
    )
    with hotline.database.connect() as connection:  # a connection does as well as a session
        assert survey_figures(connection, period) == figures


def test_an_empty_period_has_no_average(hotline: Components, clock: StoppedClock) -> None:
    now = clock.now()
    with hotline.sessions() as session:
        figures = survey_figures(session, Period(now, now + timedelta(hours=1), "UTC"))
    assert figures == (SurveyFigures("all", "", 0, None, 0),)


def test_recordings_past_their_retention_go_with_their_files(
    hotline: Components, db: Db, clock: StoppedClock, tmp_path: Path
) -> None:
    answers = hotline.survey_answers
    now = clock.now()
    for name, days in [("old-1", 40), ("old-2", 31), ("new-1", 2)]:
        (tmp_path / f"{name}.wav").write_bytes(b"RIFF")
        answers.keep_recording(Recording(name, "c1", f"{name}.wav", now - timedelta(days=days)))
    answers.keep_recording(
        Recording("RE" + "0" * 32, "c2", "https://api.twilio.com/x", now - timedelta(days=45))
    )
    upkeep = RecordingUpkeep(answers, RecordingFolder(tmp_path), clock, timedelta(days=30))
    assert upkeep.run() == 3
    assert [r["id"] for r in db.rows("recordings")] == ["new-1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new-1.wav"]
    assert upkeep.run() == 0  # once per interval


def test_a_file_that_cannot_be_deleted_keeps_its_row(
    hotline: Components, db: Db, clock: StoppedClock, tmp_path: Path
) -> None:
    answers = hotline.survey_answers
    stuck = tmp_path / "stuck.wav"
    stuck.mkdir()  # a folder where the file should be: unlink fails
    answers.keep_recording(Recording("stuck", "c1", "stuck.wav", clock.now() - timedelta(days=99)))
    upkeep = RecordingUpkeep(answers, RecordingFolder(tmp_path), clock, timedelta(days=30))
    assert upkeep.run() == 0
    assert db.count("recordings") == 1


def test_record_survey_stores_the_agents_talk_and_fails_cleanly_when_the_store_does(
    hotline: Components, db: Db, clock: StoppedClock
) -> None:
    result = record_survey(hotline.survey_answers, clock, {"call_id": "c9", "survey_score": "4"})
    assert result.outcome == "saved"
    assert db.one("survey_answers", call_id="c9")["queue"] is None  # no talk: self-service
    db.execute("DROP TABLE survey_answers")
    failed = hotline.use_cases.run(
        RunAction("s_save", "record_survey", {"call_id": "c9", "survey_score": "4"})
    )
    assert failed.outcome == "error"
    assert record_survey(hotline.survey_answers, clock, {"call_id": "c9"}).outcome == "error"


@pytest.mark.parametrize("location", ["../escape.wav", "/etc/passwd", "https://x/y"])
def test_a_location_outside_the_folder_is_never_deleted(tmp_path: Path, location: str) -> None:
    outside = tmp_path / "escape.wav"
    outside.write_bytes(b"RIFF")
    folder = tmp_path / "recordings"
    folder.mkdir()
    assert RecordingFolder(folder).remove(location)
    assert outside.exists()


def test_each_dispatcher_round_runs_the_retention_and_survives_its_failure(
    hotline: Components, db: Db, clock: StoppedClock, tmp_path: Path
) -> None:
    answers = hotline.survey_answers
    (tmp_path / "old.wav").write_bytes(b"RIFF")
    answers.keep_recording(Recording("old", "c1", "old.wav", clock.now() - timedelta(days=99)))
    upkeep = RecordingUpkeep(answers, RecordingFolder(tmp_path), clock, timedelta(days=90))
    dialer = CallFileDialer(CallbackSettings(spool=tmp_path / "spool"))
    center = hotline.contact_center
    Dispatcher(lambda: center, dialer, recordings=upkeep).run_once()
    assert db.count("recordings") == 0 and not (tmp_path / "old.wav").exists()

    broken = RecordingUpkeep(answers, RecordingFolder(tmp_path), clock, timedelta(days=90))
    db.execute("DROP TABLE recordings")  # the retention fails: the round goes on
    assert Dispatcher(lambda: center, dialer, recordings=broken).run_once() == []


def test_the_report_carries_the_survey_and_complaint_figures(
    hotline: Components, db: Db, clock: StoppedClock
) -> None:
    """``build_report`` fills ``surveys`` and ``complaints`` beside the funnel, the open and
    overdue complaints counted at the clock's now."""
    from ivr.services.reports import build_report

    now = clock.now()
    alice = agent_ids(db)["alice"]
    hotline.survey_answers.add(SurveyAnswer("c1", 5, now, "payments", alice, None))
    hotline.survey_answers.add(SurveyAnswer("c2", 2, now, None, None, "rec-2"))
    args = {
        "verified": "yes", "verified_account": "10000002", "call_id": "c3",
        "ani": "+15550000000", "language": "en", "complaint_category": "fees",
    }  # fmt: skip
    opened = hotline.use_cases.run(RunAction("complaint_open", "open_complaint", args))
    assert opened.outcome in ("opened", "opened_no_phone")
    period = Period(now - timedelta(hours=1), now + timedelta(hours=1), "UTC")

    report = build_report(hotline.unit_of_work, hotline.flow, period, now)
    assert report.surveys[0] == SurveyFigures("all", "", 2, 3.5, 1)
    assert SurveyFigures("agent", "alice", 1, 5.0, 0) in report.surveys
    assert (report.complaints["opened"], report.complaints["open"]) == (1, 1)
    assert report.complaints["overdue"] == 0
    later = build_report(hotline.unit_of_work, hotline.flow, period, now + timedelta(days=9))
    assert later.complaints["overdue"] == 1  # past its deadlines, nine days on
    assert later.to_json()["complaints"]["overdue"] == 1
