"""What happened on a call, as plain data: for the terminal phone's ``--json``, call
records and the agent's screen pop. Secure input is masked before it gets here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ivr.flow import actions as act
from ivr.flow.events import Digits, Event, HungUp, Recorded, Result, Timeout

MASKED = "****"


def _prompts(prompts: tuple[act.Prompt, ...]) -> list[dict[str, str]]:
    return [{"id": p.id, "language": p.language, "text": p.text} for p in prompts]


@dataclass
class Transcript:
    call_id: str
    ani: str
    entries: list[dict[str, Any]] = field(default_factory=list)
    use_cases: list[dict[str, Any]] = field(default_factory=list)

    def action(self, action: act.Action) -> None:
        entry = ENTRIES.get(type(action))
        if entry is not None:  # RunAction: recorded with its result (``use_case``)
            self.entries.append(entry(action))

    def caller(self, node: str, event: Event, secure: bool) -> None:
        if isinstance(event, Digits):
            keys = MASKED if secure else event.digits
            self.entries.append({"input": {"node": node, "keys": keys}})
        elif isinstance(event, Timeout):
            self.entries.append({"input": {"node": node, "timeout": True}})
        elif isinstance(event, HungUp):
            self.entries.append({"input": {"node": node, "hangup": True}})
        elif isinstance(event, Recorded):
            self.entries.append({"input": {"node": node, "recorded": event.recording_id}})

    def use_case(self, call: act.RunAction, result: Result) -> None:
        record = {
            "node": call.node,
            "use_case": call.name,
            "outcome": result.outcome,
            "data": dict(result.data),
        }
        self.use_cases.append(record)
        self.entries.append({"use_case": record})


# -- one entry per line action ------------------------------------------------------------


def _play(play: act.Play) -> dict[str, Any]:
    return {"play": _prompts(play.prompts)}


def _gather(gather: act.Gather) -> dict[str, Any]:
    return {"gather": gather.node, "prompts": _prompts(gather.prompts), "secure": gather.secure}


def _set_data(data: act.SetData) -> dict[str, Any]:
    return {"set": {data.name: data.value}}


def _enqueue(enqueue: act.Enqueue) -> dict[str, Any]:
    return {
        "enqueue": {
            "queue": enqueue.queue,
            "priority": enqueue.priority,
            "skill": enqueue.skill,
            "callback": enqueue.callback,
            "language": enqueue.language,
        }
    }


def _transfer(transfer: act.Transfer) -> dict[str, Any]:
    return {"transfer": transfer.to}


def _hangup(hangup: act.Hangup) -> dict[str, Any]:
    return {"hangup": hangup.outcome}


def _record(record: act.Record) -> dict[str, Any]:
    return {"record": record.node, "prompts": _prompts(record.prompts), "max": record.max_seconds}


#: What the transcript says of each line action.
ENTRIES: dict[type[act.Action], Callable[[Any], dict[str, Any]]] = {
    act.Play: _play,
    act.Gather: _gather,
    act.SetData: _set_data,
    act.Enqueue: _enqueue,
    act.Transfer: _transfer,
    act.Hangup: _hangup,
    act.Record: _record,
}
