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
