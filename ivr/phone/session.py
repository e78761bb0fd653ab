"""A call in progress, for any driver.

``CallSession`` wraps the pure engine: it runs the use cases the engine asks for (inline,
until the engine waits for the caller again), keeps the transcript, and hands the driver
only what the phone line must do: ``Play``, ``Gather``, ``SetData`` and the ending
(``Enqueue``, ``Transfer``, ``Hangup``).

The call's record is opened when the call starts, rewritten as the call moves (each time
its node changes, so a call cut off is closed at the last node it reached, and at least
every ``HEARTBEAT`` while events come; a process serving many calls may let a newer
version replace one not yet written: ``CallRecorder.keep_later``) and closed when the call
ends. A driver that
holds queued callers (``holds=True``: Asterisk, Twilio) keeps the record open through
the hold, and closes it with ``close_record()`` when the caller leaves; the record is
written as the call reaches the queue. Writing a record never fails the call
(``UseCases.record_call``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ivr.flow import actions as act
from ivr.flow.engine import Engine
from ivr.flow.events import Event, Recorded
from ivr.flow.state import QUEUED, CallStart, CallState
from ivr.phone.transcript import Transcript
from ivr.services import ports
from ivr.services.contact_entries import WaitingCall
from ivr.services.usecases import UseCases

#: A call's record is rewritten when its node changes, and at least this often while
#: events come (well inside the reaper's lease).
HEARTBEAT = timedelta(seconds=20)


class CallSession:
    """One call, and its record from the first second (``record``: the latest version,
    whether or not the database took it)."""

    def __init__(
        self,
        engine: Engine,
        use_cases: UseCases,
        call: CallStart,
        channel: str,
        clock: ports.Clock,
        holds: bool = False,
    ) -> None:
        self.engine = engine
        self.use_cases = use_cases
        self.call = call
        self.channel = channel
        self.clock = clock
        self.holds = holds
        self._began = self.clock.now()
        self.transcript = Transcript(call.call_id, call.ani)
        self.state: CallState | None = None
        self.waiting: act.Gather | None = None
        #: The ``Record`` the session waits on (answer it with ``Recorded``), if any.
        self.recording: act.Record | None = None
        self.queue: str | None = None
        self.record: ports.CallRecord | None = None
        self._written: ports.CallRecord | None = None  # the version last written...
        self._written_at: datetime | None = None  # ...and when (None: at the next change)
        self._closed = False
        #: The caller talked with an agent, then went on in the flow (the survey): the
        #: record keeps the outcome ``queued`` however the rest of the call ends.
        self.talked = False

    @property
    def record_closed(self) -> bool:
        return self._closed

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
        if isinstance(event, Recorded) and event.recording_id:
            self.use_cases.keep_recording(self.call.call_id, event.recording_id, event.location)
        self.transcript.caller(self.state.node, event, secure)
        self.state, actions = self.engine.step(self.state, event)
        return self._advance(actions)

    def after_agent(self) -> list[act.Action] | None:
        """The held caller's talk with an agent is over and they are still on the line:
        the flow goes on at the queue's ``after_agent`` node (``Engine.after_agent``);
        None when it names none. The call record is the one written at the queue."""
        if self.state is None:
            raise RuntimeError("after_agent() before start()")
        steps = self.engine.after_agent(self.state)
        if steps is None:
            return None
        self.talked = True
        self.state, actions = steps
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
        self.recording = last if isinstance(last, act.Record) else None
        if isinstance(last, act.Enqueue):
            self.queue = last.queue
        self._keep_record()
        return out

    # -- the record --------------------------------------------------------------------

    def resumed(self, closed: bool) -> None:
        """The state was restored from storage (Twilio: one request per step): the record
        was opened already (and ``closed``, when so)."""
        if self.state is not None:
            self.record = self._written = self._version(self.clock.now(), closed)
            self._closed = closed

    def close_record(self) -> None:
        """Close the record of a call that ended (a held caller left); at most once."""
        if self.state is not None and self.state.ended and not self._closed:
            self._closed = True
            self._write(self._version(self.clock.now(), closed=True))

    def _keep_record(self) -> None:
        state = self.state
        if state is None or self._closed:
            return
        if state.ended and not (self.holds and state.outcome == QUEUED and not self.talked):
            self.close_record()
            return
        now = self.clock.now()
        version = self._version(now, closed=False)
        last = self._written
        moved = last is None or (last.last_node, last.path, last.queue) != (
            version.last_node, version.path, version.queue,
        )  # fmt: skip
        since = None if self._written_at is None else now - self._written_at
        if last is None or state.ended:  # the record opens; at the queue: at once
            self._written_at = now
            self._write(version)
        elif since is None or moved or since >= HEARTBEAT:
            # Moving through the menus: a newer version may replace it before it is written
            # (``CallRecorder.keep_later``, in processes that serve many calls).
            self._written_at = now
            self._write(version, later=True)

    def _write(self, version: ports.CallRecord, later: bool = False) -> None:
        self.record = self._written = version
        self.use_cases.record_call(version, later)

    def _version(self, now: datetime, closed: bool) -> ports.CallRecord:
        state = self.state
        assert state is not None
        started = datetime.fromtimestamp(self.call.started_at, UTC)
        at = started + (now - self._began)
        return ports.CallRecord(
            call_id=self.call.call_id,
            channel=self.channel,
            caller_id=self.call.ani,
            language=state.language,
            reason=state.data.get("reason"),
            account_number=state.data.get("verified_account") or None,
            path=state.path,
            last_node=state.node,
            outcome=(QUEUED if self.talked else state.outcome) if closed else None,
            queue=self.queue,
            started_at=started,
            ended_at=at if closed else None,
            seen_at=at,
            timeouts=state.timeouts,
            invalid=state.invalid,
            verification=state.verification,
            handoff_node=state.handoff[0] if state.handoff else None,
            handoff=state.handoff[1] if state.handoff else None,
        )

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
