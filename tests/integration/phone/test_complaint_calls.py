"""Main menu 5 through the terminal phone (``ivr call``) on a real SQLite database: a
complaint opened by keypad with its reference said twice and texted, and the caller who
phones again told its status."""

from __future__ import annotations

from pathlib import Path

import pytest

from integration.support import EMMA, LI_WEI, Db, ivr_call, said, texts, use_case

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture(autouse=True)
def hotline_env(seeded_env: str) -> str:
    return seeded_env


def test_a_complaint_is_opened_by_keypad_and_its_reference_said_twice_and_texted(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    number, pin, phone = EMMA
    summary, _ = ivr_call(capsys, f"1 5 {number}# {pin} 2 2 9", ani="+15550000000")

    assert summary["reason"] == "complaint" and summary["outcome"] == "solved"
    opened = use_case(summary, "open_complaint")
    assert opened["outcome"] == "opened"
    reference = opened["data"]["complaint_reference"]
    assert texts(summary).count(reference) == 2
    heard = said(summary)
    assert heard.index("complaint_category_fees") < heard.index("complaint_opened")
    row = db.one("complaints", reference=reference)
    assert (row["account_number"], row["category"], row["state"]) == (number, "fees", "open")
    assert row["call_id"] == summary["call_id"] and row["caller"] == "+15550000000"
    [sms] = db.rows("sms_outbox")
    assert sms["to"] == phone and reference in sms["body"]


def test_a_caller_who_phones_again_hears_the_status_in_chinese(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    number, pin, _ = LI_WEI
    first, _ = ivr_call(capsys, f"2 5 {number}# {pin} 1 2 9", ani="+8613800138001")
    reference = use_case(first, "open_complaint")["data"]["complaint_reference"]
    db.execute("UPDATE complaints SET state = 'acknowledged' WHERE reference = :r", r=reference)

    again, _ = ivr_call(capsys, f"2 5 {number}# {pin} 9", ani="+8613800138001")

    status = use_case(again, "complaint_status")
    assert status["outcome"] == "acknowledged"
    assert status["data"]["complaint_reference"] == reference
    assert "complaint_status_acknowledged" in said(again)
    assert f"您的投诉，编号{reference}，已受理" in texts(again)
    assert db.count("complaints") == 1  # hearing the status opens nothing


def test_a_message_in_the_callers_own_words_is_kept_with_the_complaint(
    capsys: pytest.CaptureFixture[str],
    db: Db,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recordings = tmp_path / "recordings"
    monkeypatch.setenv("IVR_RECORDINGS_DIR", str(recordings))
    number, pin, _ = EMMA
    summary, _ = ivr_call(capsys, f"1 5 {number}# {pin} 3 1 say:nobody_called_me_back 9")

    heard = said(summary)
    assert heard.index("complaint_record_after_tone") < heard.index("complaint_opened")
    reference = use_case(summary, "open_complaint")["data"]["complaint_reference"]
    row = db.one("complaints", reference=reference)
    assert row["category"] == "service" and row["recording_id"]
    recording = db.one("recordings", id=row["recording_id"])
    assert recording["call_id"] == summary["call_id"]
    kept = (recordings / recording["location"]).read_text(encoding="utf-8")
    assert kept == "nobody called me back\n"


def test_an_unwritable_recordings_folder_still_opens_the_complaint(
    capsys: pytest.CaptureFixture[str],
    db: Db,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, not a folder")
    monkeypatch.setenv("IVR_RECORDINGS_DIR", str(blocked / "recordings"))
    number, pin, _ = EMMA
    summary, _ = ivr_call(capsys, f"1 5 {number}# {pin} 3 1 say:hello 9")

    reference = use_case(summary, "open_complaint")["data"]["complaint_reference"]
    assert db.one("complaints", reference=reference)["recording_id"] is None
    assert db.count("recordings") == 0
