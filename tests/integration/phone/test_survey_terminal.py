"""The post-call survey on the terminal phone (``ivr call``): the real flow with its
self-service survey asked of every caller (``tests/survey_flow.py``), a real SQLite
database; what the caller "says" for a comment is kept as a file in the recordings folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from survey_flow import surveyed_flow

from integration.support import LI_WEI, Db, ivr_call, said, use_case

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

RESET = f"1 1 {LI_WEI[0]}# {LI_WEI[1]} 9"  # a password reset, then "that's all"


@pytest.fixture(autouse=True)
def surveyed(seeded_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The surveyed flow and a recordings folder of this test's own."""
    monkeypatch.setenv("IVR_FLOW", str(surveyed_flow(tmp_path / "flow")))
    recordings = tmp_path / "recordings"
    monkeypatch.setenv("IVR_RECORDINGS_DIR", str(recordings))
    return recordings


def test_a_score_and_a_spoken_comment_are_kept(
    capsys: pytest.CaptureFixture[str], db: Db, surveyed: Path
) -> None:
    summary, _ = ivr_call(capsys, f"{RESET} 4 1 say:the_code_came_quickly")
    heard = said(summary)
    assert heard[-5:] == [
        "survey_score", "survey_comment_offer", "survey_record_comment", "survey_thanks",
        "goodbye",
    ]  # fmt: skip
    assert summary["outcome"] == "solved"
    assert use_case(summary, "record_survey")["outcome"] == "saved"
    answer = db.one("survey_answers", call_id=summary["call_id"])
    assert (answer["score"], answer["queue"], answer["agent_id"]) == (4, None, None)
    recording = db.one("recordings", id=answer["comment_recording"])
    assert recording["call_id"] == summary["call_id"]
    assert (surveyed / recording["location"]).read_text(encoding="utf-8") == (
        "the code came quickly\n"
    )


def test_a_wrong_key_is_asked_again_and_no_comment_is_fine(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    summary, _ = ivr_call(capsys, f"{RESET} 8 5 2")
    assert said(summary)[-5:] == [
        "invalid_choice", "survey_score", "survey_comment_offer", "survey_thanks", "goodbye",
    ]  # fmt: skip
    answer = db.one("survey_answers", call_id=summary["call_id"])
    assert (answer["score"], answer["comment_recording"]) == (5, None)
    assert db.count("recordings") == 0


def test_silence_skips_the_survey_without_an_answer(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    summary, _ = ivr_call(capsys, f"{RESET} t t")
    assert said(summary)[-3:] == ["no_input", "survey_score", "goodbye"]
    assert summary["outcome"] == "solved"
    assert db.count("survey_answers") == 0


def test_a_security_call_is_never_surveyed(capsys: pytest.CaptureFixture[str], db: Db) -> None:
    summary, _ = ivr_call(capsys, f"1 4 {LI_WEI[0]}# {LI_WEI[1]}")
    assert "survey_score" not in said(summary)
    assert db.count("survey_answers") == 0


def test_a_chinese_caller_is_surveyed_in_chinese(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    summary, _ = ivr_call(capsys, f"2 1 {LI_WEI[0]}# {LI_WEI[1]} 9 3 2")
    texts = [p["text"] for e in summary["events"] for p in e.get("prompts", [])]
    assert any("请为本次通话评分" in t for t in texts), texts
    assert db.one("survey_answers", call_id=summary["call_id"])["score"] == 3


def test_a_caller_who_hangs_up_while_recording_leaves_a_closed_record_and_no_answer(
    capsys: pytest.CaptureFixture[str], db: Db, surveyed: Path
) -> None:
    summary, _ = ivr_call(capsys, f"{RESET} 2 1 h")
    assert summary["outcome"] == "abandoned"
    record = db.one("call_records", call_id=summary["call_id"])
    assert record["outcome"] == "abandoned" and record["last_node"] == "survey_self_service_record"
    assert record["ended_at"] is not None
    assert db.count("survey_answers") == 0 and db.count("recordings") == 0
    assert not surveyed.exists() or not any(surveyed.iterdir())


def test_an_unwritable_recordings_folder_still_ends_the_survey_politely(
    capsys: pytest.CaptureFixture[str], db: Db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    monkeypatch.setenv("IVR_RECORDINGS_DIR", str(blocked / "recordings"))
    summary, _ = ivr_call(capsys, f"{RESET} 1 1 say:hello")
    assert said(summary)[-2:] == ["survey_thanks", "goodbye"]
    assert summary["outcome"] == "solved"
    answer = db.one("survey_answers", call_id=summary["call_id"])
    assert (answer["score"], answer["comment_recording"]) == (1, None)
