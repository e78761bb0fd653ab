"""Main menu 5 by a real SIP call: Emma (10000002) is verified, has no complaint yet,
presses 2 (fees) and 2 (no recorded message), hears the new reference twice, digit by
digit (Asterisk's SAY DIGITS), and presses 9. The complaint is then found in the sandbox's
database with the flow's deadlines, and its reference in the SMS outbox.

The call's plan, placing and reading come from ``test_branches`` (the timeline of the
rendered prompts: keys pressed during a ``say`` are lost).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from ivr.app.asterisk_sandbox import Sandbox
from ivr.services import wording

from .conftest import PROMPTS, unavailable
from .test_branches import (
    FLOW,
    PAYMENT,
    SLACK,
    Call,
    Plan,
    ask,
    english,
    identify,
    main_menu,
    place,
    rows,
    spoken,
    spoken_digits,
    timeout,
)
from .timeline import Sounds, Timeline

pytestmark = pytest.mark.asterisk

EMMA = PAYMENT  # 10000002: English; the payment call only reads her account


def complaint_plan(tl: Timeline, resolve_date: str) -> Plan:
    main_menu(english(tl), "5", "complaint_intro")
    identify(tl, EMMA.number, EMMA.pin)  # then complaint_status: none
    tl.press("2", *ask("complaint_category"), timeout=timeout("complaint_category"))
    tl.play("complaint_category_fees")
    offer = "complaint_message_offer"  # 2: no message in the caller's own words
    tl.press("2", *ask(offer), timeout=timeout(offer)).pause(0.3)  # open_complaint
    reference = "0" * 8  # not known yet: only its length counts here
    tl.play(*spoken("complaint_opened", resolve_date=resolve_date, complaint_reference=reference))
    tl.press("9", *ask("anything_else"), timeout=timeout("anything_else"))
    return Plan(tl, tl.now + tl.seconds("goodbye") + SLACK)


@pytest.fixture(scope="module")
def complaint_call(
    sandbox: Sandbox, prompt_audio: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Call]:
    if prompt_audio:
        unavailable(f"the hotline would be silent: {prompt_audio}")
    sandbox.start_fastagi()
    zone = ZoneInfo(FLOW.complaints.timezone)
    resolve = sandbox.clock.now() + timedelta(seconds=FLOW.complaints.resolve_within)
    sounds = Sounds(PROMPTS / "en", sandbox.run / "data" / "sounds" / "en" / "digits")
    plan = complaint_plan(Timeline(sounds), wording.day(resolve.astimezone(zone), "en"))
    mark = len(sandbox.log_text())
    yield place(sandbox, tmp_path_factory.mktemp("complaint"), "complaint", plan, mark)


def test_a_complaint_opened_by_keypad_is_read_back_twice_and_stored(
    fastagi_sandbox: Sandbox, complaint_call: Call
) -> None:
    call = complaint_call
    why = call.why()
    assert call.result.ok, call.result.errors
    assert call.result.hung_up_by == "hotline", why
    assert call.keys() == "15" + EMMA.number + "#" + EMMA.pin + "229", why
    record = call.record
    assert (record["reason"], record["outcome"], record["account_number"]) == (
        "complaint", "solved", EMMA.number,
    ), record  # fmt: skip
    assert "complaint_status" in record["path"] and "complaint_open" in record["path"], record

    [complaint] = rows(fastagi_sandbox, "complaints", call_id=record["call_id"])
    assert (complaint["account_number"], complaint["category"], complaint["state"]) == (
        EMMA.number, "fees", "open",
    ), complaint  # fmt: skip
    assert complaint["caller"] == call.caller
    standard = FLOW.complaints
    opened = complaint["created_at"]
    assert complaint["acknowledge_by"] - opened == timedelta(seconds=standard.acknowledge_within)
    assert complaint["resolve_by"] - opened == timedelta(seconds=standard.resolve_within)

    played = call.played()
    reference = complaint["reference"]
    assert spoken_digits(played, "en/complaint_opened.2", "en/complaint_opened.3") == reference
    assert spoken_digits(played, "en/complaint_opened.3", "en/anything_else") == reference, why
    sms = rows(fastagi_sandbox, "sms_outbox", to=EMMA.phone)
    assert any(reference in s["body"] for s in sms), sms
    events = rows(fastagi_sandbox, "complaint_events", complaint_id=complaint["id"])
    assert [(e["actor"], e["action"]) for e in events] == [("ivr", "opened")]
