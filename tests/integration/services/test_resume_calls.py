"""A caller phones back with the reference code a callback gave them (main menu 8), through
the real ``ivr call`` on a real database, on SQLite and on PostgreSQL: the good code puts
them back in the place the callback kept, with its context; a used, a wrong and a locked
out code are refused with their own prompts. The code never shows in the transcript."""

from __future__ import annotations

from dataclasses import replace

import pytest

from integration.support import LI_WEI, Db, enqueued, ivr_call, outcomes, said
from ivr.app.bootstrap import Components
from ivr.services.contact_center import ContactCenter, WaitingCall

pytestmark = pytest.mark.usefixtures("seeded_env")

SECRET = "resume-tests-secret"
NUMBER, _, PHONE = LI_WEI


@pytest.fixture
def center(hotline: Components, monkeypatch: pytest.MonkeyPatch) -> ContactCenter:
    """The contact center the first call used; ``ivr call`` shares its secret key."""
    monkeypatch.setenv("IVR_SECRET_KEY", SECRET)
    hotline.settings = replace(hotline.settings, secret_key=SECRET)
    return hotline.contact_center


def callback_code(center: ContactCenter) -> tuple[int, str]:
    """A verified payments caller who took a callback: the entry id and the code heard."""
    entry = center.enqueue(
        WaitingCall(
            call_id="first-call",
            queue="payments",
            priority=5,
            skill="payments",
            language="en",
            caller_id=PHONE,
            account_number=NUMBER,
            reason="payment_failure",
            path=("main_menu", "payment_intro"),
        )
    )
    _, code = center.request_callback(entry.id, PHONE)
    return entry.id, code


def test_the_code_resumes_the_place_with_its_context(
    capsys: pytest.CaptureFixture[str], center: ContactCenter, db: Db
) -> None:
    entry_id, code = callback_code(center)

    summary, raw = ivr_call(capsys, f"1 8 {code}", ani=PHONE)

    assert outcomes(summary, "resume_callback") == ["resumed_payments"]
    assert said(summary)[-1] == "resume_welcome_back"
    assert enqueued(summary)["queue"] == "payments"
    assert summary["verified_account"] == NUMBER and summary["reason"] == "payment_failure"
    assert code not in raw  # a secure gather: the code is masked everywhere
    entry = db.one("queue_entries", id=entry_id)
    assert (entry["state"], entry["kind"], entry["call_id"]) == (
        "resumed",
        "call",
        summary["call_id"],
    )
    assert db.one("callbacks", entry_id=entry_id)["state"] == "cancelled"


def test_a_used_code_is_refused_and_the_caller_is_not_stranded(
    capsys: pytest.CaptureFixture[str], center: ContactCenter
) -> None:
    _, code = callback_code(center)
    ivr_call(capsys, f"1 8 {code}", ani=PHONE)

    summary, _ = ivr_call(capsys, f"1 8 {code} 0", ani=PHONE)

    assert outcomes(summary, "resume_callback") == ["used"]
    assert said(summary)[-3:-1] == ["resume_used_code", "anything_else"]
    assert enqueued(summary)["queue"] == "general"  # 0 at anything_else: a person


def test_wrong_codes_ask_again_then_lock_the_number_out(
    capsys: pytest.CaptureFixture[str], center: ContactCenter
) -> None:
    _, code = callback_code(center)
    wrong = "000000" if code != "000000" else "111111"

    first, _ = ivr_call(capsys, f"1 8 {wrong} {wrong} {wrong}", ani="+15550009999")
    second, _ = ivr_call(capsys, f"1 8 {wrong} {wrong}", ani="+15550009999")
    third, _ = ivr_call(capsys, f"1 8 {code}", ani="+15550009999")

    assert outcomes(first, "resume_callback") == ["wrong"] * 3
    assert said(first).count("resume_wrong_code") == 3
    assert isinstance(enqueued(first)["queue"], str)  # three in one call: a person helps
    # the 5th wrong code from one number in 15 minutes locks it out: then even the right
    # code is refused, and the caller is put through to a person
    assert outcomes(second, "resume_callback") == ["wrong", "locked"]
    assert outcomes(third, "resume_callback") == ["locked"]
    assert said(third)[-2:] == ["resume_locked", "transferring_to_agent"]
