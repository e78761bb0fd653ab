"""The claim and replay machinery of a Twilio call over a hand-written ``CallStates`` fake:
one step applied once, replays answered from what was saved, a placeholder re-derived."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from fakes import FixedClock
from start_date import OPEN_UTC
from twilio.twiml.voice_response import VoiceResponse

from ivr.phone.twilio import twiml
from ivr.phone.twilio.call_state import CallStates
from ivr.phone.twilio.steps import Memo, Reply, Steps


@dataclass(frozen=True)
class Saved:
    call_sid: str
    step: int
    memo: dict[str, Any]
    reply: str | None
    updated_at: datetime


class FakeCallStates(CallStates):
    def __init__(self) -> None:
        self.calls: dict[str, Saved] = {}

    def get(self, call_sid: str) -> Saved | None:
        return self.calls.get(call_sid)

    def create(self, call_sid: str, memo: dict[str, Any], now: datetime) -> bool:
        if call_sid in self.calls:
            return False
        self.calls[call_sid] = Saved(call_sid, 0, memo, None, now)
        return True

    def claim(self, call_sid: str, step: int, now: datetime) -> dict[str, Any] | None:
        found = self.calls.get(call_sid)
        if found is None or found.step != step - 1:
            return None
        self.calls[call_sid] = replace(found, step=step, reply=None, updated_at=now)
        return found.memo

    def save(
        self, call_sid: str, step: int, memo: dict[str, Any], reply: str, now: datetime
    ) -> None:
        if self.calls[call_sid].step == step:
            self.calls[call_sid] = Saved(call_sid, step, memo, reply, now)


def said(text: str) -> VoiceResponse:
    response = VoiceResponse()
    response.say(text)
    return response


def steps(calls: FakeCallStates) -> tuple[Steps, list[Memo]]:
    applied: list[Memo] = []

    def again(saved: str, memo: Memo) -> VoiceResponse | None:
        return said("code 1234, again") if saved == "told:7" else None

    def url(kind: str, **query: Any) -> str:
        return f"/twilio/{kind}?step={query['step']}"

    return Steps(calls, FixedClock(OPEN_UTC), url, again), applied


def counting(applied: list[Memo], text: str, told: str | None = None) -> Any:
    def work(memo: Memo) -> Reply:
        applied.append(memo)
        return ({**memo, "told": told} if told else memo), said(text)

    return work


def test_a_step_is_applied_once_and_its_replay_gets_the_same_reply() -> None:
    calls = FakeCallStates()
    run, applied = steps(calls)
    first = run.begin("CA1", {"n": 1}, OPEN_UTC, counting(applied, "welcome"))
    again = run.begin("CA1", {"n": 1}, OPEN_UTC, counting(applied, "welcome"))
    menu = run.advance("CA1", 1, counting(applied, "menu"))

    assert first == again and "welcome" in first
    assert run.advance("CA1", 1, counting(applied, "menu")) == menu
    assert [memo["step"] for memo in applied] == [0, 1]


def test_a_reply_saying_a_code_is_saved_without_it_and_re_derived() -> None:
    calls = FakeCallStates()
    run, applied = steps(calls)
    run.begin("CA2", {}, OPEN_UTC, counting(applied, "hello"))
    told = run.advance("CA2", 1, counting(applied, "code 1234", told="told:7"))

    saved = calls.calls["CA2"]
    assert "1234" in told and saved.reply == "told:7" and "told" not in saved.memo
    assert "code 1234, again" in run.advance("CA2", 1, counting(applied, "never"))


def test_an_unknown_call_or_a_step_out_of_turn_ends_politely() -> None:
    calls = FakeCallStates()
    run, applied = steps(calls)
    sorry = twiml.xml(twiml.apology())
    assert run.advance("CA-nobody", 3, counting(applied, "x")) == sorry
    run.begin("CA3", {}, OPEN_UTC, counting(applied, "hello"))
    assert run.advance("CA3", 5, counting(applied, "x")) == sorry
    assert len(applied) == 1


class GoneDatabase(Exception):
    """What the store raises when the database went away."""


class FailingCallStates(FakeCallStates):
    """Call states whose database goes away at ``failing`` (a method's name)."""

    def __init__(self, failing: str) -> None:
        super().__init__()
        self.failing = failing

    def create(self, call_sid: str, memo: dict[str, Any], now: datetime) -> bool:
        if self.failing == "create":
            raise GoneDatabase("no such table: twilio_calls")
        return super().create(call_sid, memo, now)

    def claim(self, call_sid: str, step: int, now: datetime) -> dict[str, Any] | None:
        if self.failing == "claim":
            raise GoneDatabase("database is locked")
        return super().claim(call_sid, step, now)

    def save(
        self, call_sid: str, step: int, memo: dict[str, Any], reply: str, now: datetime
    ) -> None:
        if self.failing == "save" and step > 0:
            raise GoneDatabase("disk I/O error")
        super().save(call_sid, step, memo, reply, now)


def test_a_call_whose_state_cannot_be_created_hears_the_apology() -> None:
    run, applied = steps(FailingCallStates("create"))
    assert run.begin("CA4", {}, OPEN_UTC, counting(applied, "hello")) == twiml.xml(twiml.apology())
    assert applied == []


def test_a_claim_the_database_fails_ends_the_call_politely_without_applying_the_step() -> None:
    calls = FailingCallStates("none")
    run, applied = steps(calls)
    run.begin("CA5", {}, OPEN_UTC, counting(applied, "hello"))
    calls.failing = "claim"

    reply = run.advance("CA5", 1, counting(applied, "menu"))

    assert reply == twiml.xml(twiml.apology()) and len(applied) == 1


def test_a_reply_whose_state_was_not_saved_is_never_sent() -> None:
    calls = FailingCallStates("save")
    run, applied = steps(calls)
    run.begin("CA6", {"language": "en"}, OPEN_UTC, counting(applied, "hello"))

    reply = run.advance("CA6", 1, counting(applied, "your balance is 42"))

    assert "balance" not in reply and reply == twiml.xml(twiml.apology())
    assert calls.calls["CA6"].reply is None  # a replay waits, then ends politely
