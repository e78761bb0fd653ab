"""What happened on a call, as plain data: for the terminal phone's ``--json``, call
records and the agent's screen pop. Secure input is masked before it gets here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ivr.flow import actions as act
from ivr.flow.events import Digits, Event, HungUp, Result, Timeout

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
        if isinstance(action, act.Play):
            self.entries.append({"play": _prompts(action.prompts)})
        elif isinstance(action, act.Gather):
            prompts = _prompts(action.prompts)
            self.entries.append(
                {"gather": action.node, "prompts": prompts, "secure": action.secure}
            )
        elif isinstance(action, act.SetData):
            self.entries.append({"set": {action.name: action.value}})
        elif isinstance(action, act.Enqueue):
            self.entries.append(
                {
                    "enqueue": {
                        "queue": action.queue,
                        "priority": action.priority,
                        "skill": action.skill,
                        "callback": action.callback,
                        "language": action.language,
                    }
                }
            )
        elif isinstance(action, act.Transfer):
            self.entries.append({"transfer": action.to})
        elif isinstance(action, act.Hangup):
            self.entries.append({"hangup": action.outcome})

    def caller(self, node: str, event: Event, secure: bool) -> None:
        if isinstance(event, Digits):
            keys = MASKED if secure else event.digits
            self.entries.append({"input": {"node": node, "keys": keys}})
        elif isinstance(event, Timeout):
            self.entries.append({"input": {"node": node, "timeout": True}})
        elif isinstance(event, HungUp):
            self.entries.append({"input": {"node": node, "hangup": True}})

    def use_case(self, call: act.RunAction, result: Result) -> None:
        record = {
            "node": call.node,
            "use_case": call.name,
            "outcome": result.outcome,
            "data": dict(result.data),
        }
        self.use_cases.append(record)
        self.entries.append({"use_case": record})
