"""The node kinds of a compiled flow, one frozen dataclass each: what a node holds and
where it may lead (``edges``). What every node has is ``model.Node``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo

from ivr.flow.model import Node, QueuePolicy


@dataclass(frozen=True, kw_only=True)
class Input(Node):
    """Nodes that ask the caller for keys. With ``type_ahead`` a key pressed during the
    announcements just before the node's question is kept as the node's first key."""

    prompts: tuple[str, ...]
    timeout: float
    retries: int
    invalid_prompt: str | None
    timeout_prompt: str | None
    type_ahead: bool = True

    @property
    def waits(self) -> bool:
        return True


@dataclass(frozen=True, kw_only=True)
class Menu(Input):
    choices: Mapping[str, str]
    on_failure: str

    def _edges(self) -> list[tuple[str, str]]:
        return [(f"choice {k}", t) for k, t in self.choices.items()] + [
            ("on_failure", self.on_failure)
        ]


@dataclass(frozen=True, kw_only=True)
class Gather(Input):
    min_digits: int
    max_digits: int
    finish_key: str | None
    save_as: str
    secure: bool
    next: str
    on_failure: str

    def _edges(self) -> list[tuple[str, str]]:
        return [("next", self.next), ("on_failure", self.on_failure)]


@dataclass(frozen=True, kw_only=True)
class Language(Input):
    choices: Mapping[str, str]  # key -> language code
    default: str
    next: str

    def _edges(self) -> list[tuple[str, str]]:
        return [("next", self.next)]


@dataclass(frozen=True, kw_only=True)
class Say(Node):
    prompts: tuple[str, ...]
    next: str

    def _edges(self) -> list[tuple[str, str]]:
        return [("next", self.next)]


@dataclass(frozen=True, kw_only=True)
class Verify(Node):
    account: str
    pin: str
    attempts: int
    retry: str
    retry_prompt: str | None
    on_success: str
    on_failure: str
    on_locked: str
    on_error: str
    #: Where the right PIN of a closed account goes; the loader defaults it to on_failure
    #: (flows written before it existed), and "" means on_failure too.
    on_closed: str = ""

    def _edges(self) -> list[tuple[str, str]]:
        own = self.on_closed and self.on_closed != self.on_failure
        closed = [("on_closed", self.on_closed)] if own else []
        return [
            ("retry", self.retry),
            ("on_success", self.on_success),
            ("on_failure", self.on_failure),
            ("on_locked", self.on_locked),
            ("on_error", self.on_error),
            *closed,
        ]

    @property
    def waits(self) -> bool:
        return True


@dataclass(frozen=True, kw_only=True)
class Action(Node):
    action: str
    outcomes: Mapping[str, str]
    on_error: str

    def _edges(self) -> list[tuple[str, str]]:
        return [(f"outcome {k}", t) for k, t in self.outcomes.items()] + [
            ("on_error", self.on_error)
        ]

    @property
    def waits(self) -> bool:
        return True


@dataclass(frozen=True, kw_only=True)
class Branch(Node):
    var: str
    cases: Mapping[str, str]
    default: str

    def _edges(self) -> list[tuple[str, str]]:
        return [(f"case {k}", t) for k, t in self.cases.items()] + [("default", self.default)]


@dataclass(frozen=True)
class OpenSpan:
    """Open on ``weekday`` (0 = Monday) from ``start`` to ``end``, minutes after midnight."""

    weekday: int
    start: int
    end: int


@dataclass(frozen=True, kw_only=True)
class Hours(Node):
    timezone: str
    zone: tzinfo
    open: tuple[OpenSpan, ...]
    holidays: frozenset[str]  # ISO dates, YYYY-MM-DD
    on_open: str
    on_closed: str
    on_holiday: str

    def _edges(self) -> list[tuple[str, str]]:
        return [
            ("on_open", self.on_open),
            ("on_closed", self.on_closed),
            ("on_holiday", self.on_holiday),
        ]


@dataclass(frozen=True, kw_only=True)
class Queue(Node):
    queue: str
    priority: int
    skill: str
    callback: str  # offer | only | never
    prompts: tuple[str, ...] = ()
    policy: QueuePolicy = field(default_factory=QueuePolicy)

    def _edges(self) -> list[tuple[str, str]]:
        return self.policy.targets()

    @property
    def ends(self) -> bool:
        return True


@dataclass(frozen=True, kw_only=True)
class Transfer(Node):
    to: str
    prompts: tuple[str, ...] = ()

    @property
    def ends(self) -> bool:
        return True


@dataclass(frozen=True, kw_only=True)
class Hangup(Node):
    outcome: str
    prompts: tuple[str, ...] = ()

    @property
    def ends(self) -> bool:
        return True


@dataclass(frozen=True, kw_only=True)
class Record(Node):
    """Record the caller's voice after the prompts, for at most ``max_seconds``; the
    recording's id goes into ``save_as`` and the call goes on to ``next``. Nothing kept
    (silence, a hang-up mid-record, the recording could not be stored): ``on_failure``."""

    prompts: tuple[str, ...]
    max_seconds: int
    save_as: str
    next: str
    on_failure: str

    def _edges(self) -> list[tuple[str, str]]:
        return [("next", self.next), ("on_failure", self.on_failure)]

    @property
    def waits(self) -> bool:
        return True


@dataclass(frozen=True, kw_only=True)
class Survey(Input):
    """The post-call survey's question: a score from 1 to 5 (saved as ``SCORE``), then
    ``after`` (the comment offer, or the use case that stores the answer; the compiler
    adds those nodes, ``survey_parts.py``). A call the sample leaves out, one whose
    ``reason`` is in ``skip_reasons``, or one that answered a survey already goes straight
    to ``next``; so does a caller who gives no valid score."""

    sample: float
    skip_reasons: frozenset[str]
    after: str
    next: str

    def _edges(self) -> list[tuple[str, str]]:
        return [("score", self.after), ("next", self.next)]
