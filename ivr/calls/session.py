"""A call in progress, for any driver.

``CallSession`` wraps the pure engine: it runs the use cases the engine asks for (inline,
until the engine waits for the caller again), keeps the transcript, and hands the driver
only what the phone line must do: ``Play``, ``Gather``, ``SetData`` and the ending
(``Enqueue``, ``Transfer``, ``Hangup``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ivr.calls.transcript import Transcript
from ivr.flow import actions as act
from ivr.flow.engine import Engine
from ivr.flow.events import Event
from ivr.flow.state import CallStart, CallState
from ivr.services import ports
from ivr.services.contact_ports import WaitingCall
from ivr.services.usecases import UseCases


class CallSession:
    """One call. When it ends (in the flow or by hanging up) its record is written once."""

    def __init__(
        self,
        engine: Engine,
        use_cases: UseCases,
        call: CallStart,
        channel: str,
        clock: ports.Clock,
    ) -> None:
        self.engine = engine
        self.use_cases = use_cases
        self.call = call
        self.channel = channel
        self.clock = clock
        self._began = self.clock.now()
        self.transcript = Transcript(call.call_id, call.ani)
        self.state: CallState | None = None
        self.waiting: act.Gather | None = None
        self.queue: str | None = None
        self.record: ports.CallRecord | None = None

    @property
    def ended(self) -> bool:
        return self.state is not None and self.state.ended

    def start(self) -> list[act.Action]:
        self.state, actions = self.engine.start(self.call)
        return self._advance(actions)

    def answer(self, event: Event) -> list[act.Action]:
        """The caller answered the pending gather (or hung up)."""
        if self.state is None:
            raise RuntimeError("answer() before start()")
        if self.state.ended:
            return []  # the call is over: nothing more is heard or recorded
        secure = self.waiting.secure if self.waiting else False
        self.transcript.caller(self.state.node, event, secure)
        self.state, actions = self.engine.step(self.state, event)
        return self._advance(actions)

    def divert(self, node_id: str) -> list[act.Action]:
        """The queue's policy sent the held caller on to ``node_id`` (``Engine.divert``):
        the flow goes on there. The record written when the call was queued stays the
        call's record."""
        if self.state is None:
            raise RuntimeError("divert() before start()")
        self.state, actions = self.engine.divert(self.state, node_id)
        return self._advance(actions)

    def _advance(self, actions: list[act.Action]) -> list[act.Action]:
        out: list[act.Action] = []
        while True:
            pending = None
            for action in actions:
                if isinstance(action, act.RunAction):
                    pending = action
                else:
                    self.transcript.action(action)
                    out.append(action)
            if pending is None:
                break
            result = self.use_cases.run(pending)
            self.transcript.use_case(pending, result)
            assert self.state is not None
            self.state, actions = self.engine.step(self.state, result)
        last = out[-1] if out else None
        self.waiting = last if isinstance(last, act.Gather) else None
        if isinstance(last, act.Enqueue):
            self.queue = last.queue
        if self.ended and self.record is None:
            self._keep_record()
        return out

    def _keep_record(self) -> None:
        state = self.state
        assert state is not None and state.outcome is not None
        started = datetime.fromtimestamp(self.call.started_at, UTC)
        self.record = ports.CallRecord(
            call_id=self.call.call_id,
            channel=self.channel,
            caller_id=self.call.ani,
            language=state.language,
            reason=state.data.get("reason"),
            account_number=state.data.get("verified_account") or None,
            path=state.path,
            last_node=state.node,
            outcome=state.outcome,
            queue=self.queue,
            started_at=started,
            ended_at=started + (self.clock.now() - self._began),
        )
        self.use_cases.record_call(self.record)

    def waiting_call(self, how: act.Enqueue) -> WaitingCall:
        """What the queue needs to know about this call, which ended in ``how``."""
        assert self.state is not None
        data = self.state.data
        resume = data.get("resume_entry", "")
        return WaitingCall(
            call_id=self.call.call_id,
            queue=how.queue,
            priority=how.priority,
            skill=how.skill,
            language=how.language,
            caller_id=self.call.ani,
            account_number=data.get("verified_account") or None,
            reason=data.get("reason") or None,
            path=tuple(self.state.path),
            resume_entry=int(resume) if resume.isdigit() else None,
        )

    def summary(self) -> dict[str, Any]:
        """The transcript and outcome, as JSON-ready data."""
        state = self.state
        return {
            "call_id": self.call.call_id,
            "ani": self.call.ani,
            "language": state.language if state else None,
            "outcome": state.outcome if state else None,
            "ended_at_node": state.node if state else None,
            "nodes": list(state.path) if state else [],
            "verified_account": state.data.get("verified_account") if state else None,
            "reason": state.data.get("reason") if state else None,
            "use_cases": self.transcript.use_cases,
            "events": self.transcript.entries,
        }
