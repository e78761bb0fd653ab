"""The generic call loop (``ivr.phone.call_loop``) over a hand-written ``Line``: the
protocol is all a blocking driver needs to run a call (a FreeSWITCH driver would be one)."""

from __future__ import annotations

import threading

from fakes import FixedClock

from ivr.flow import actions as act
from ivr.flow.engine import Engine
from ivr.flow.events import Digits, Event, HungUp, Timeout
from ivr.flow.state import ABANDONED, CallStart
from ivr.phone.call_loop import run_call
from ivr.phone.line import Speaker
from ivr.phone.session import CallSession
from ivr.services.usecases import UseCases


class ScriptedLine:
    """A ``Line`` that answers each gather with the next of ``answers``."""

    def __init__(self, answers: list[Event]) -> None:
        self.call_id = "line-1"
        self.speak: Speaker = lambda prompt: []
        self.answers = answers
        self.performed: list[act.Action] = []

    @property
    def hung_up(self) -> bool:
        return False

    def answer(self) -> Event | None:
        return None

    def perform(self, actions: list[act.Action], at: str) -> Event | act.Enqueue | None:
        self.performed += actions
        last = actions[-1] if actions else None
        if isinstance(last, act.Enqueue):
            return last
        if isinstance(last, act.Gather):
            return self.answers.pop(0) if self.answers else HungUp()
        return None

    def play(self, prompt: act.Prompt, escape: str = "") -> str:
        return ""

    def play_file(self, name: str, escape: str = "") -> str:
        return ""

    def gather(self, gather: act.Gather) -> Digits | Timeout:
        return Timeout()

    def set(self, name: str, value: str) -> None:
        pass

    def hang_up(self) -> None:
        pass

    def ring_agent(self, endpoint: str, entry_id: int, seconds: int) -> str:
        return "NOANSWER"


class Parts:
    """The parts of a process the loop uses for a call that never reaches the queue."""

    def __init__(self, engine: Engine, use_cases: UseCases, clock: FixedClock) -> None:
        self.engine, self.use_cases, self.clock = engine, use_cases, clock
        self.stopping = threading.Event()

    def session(self, call: CallStart, channel: str, holds: bool = False) -> CallSession:
        return CallSession(self.engine, self.use_cases, call, channel, self.clock, holds)

    def text_renderer(self, flow: object) -> object:
        return lambda *args: []


def test_a_line_that_hangs_up_at_the_first_question_ends_the_call_abandoned(
    engine: Engine, use_cases: UseCases, clock: FixedClock
) -> None:
    line = ScriptedLine([])
    call = CallStart("line-1", "+8613800138001", "95188", started_at=clock.now().timestamp())

    session = run_call(line, Parts(engine, use_cases, clock), call, "fake")  # type: ignore[arg-type]

    assert session.state is not None and session.state.outcome == ABANDONED
    assert any(isinstance(a, act.Gather) for a in line.performed)
    assert session.record_closed
