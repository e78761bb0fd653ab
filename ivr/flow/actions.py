"""What the engine asks drivers to do. Each step returns a list of these; the last one
says what the driver waits for next (a ``Gather``, a ``RunAction``) or ends the flow."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ivr.flow.model import QueuePolicy

MASK = "****"


@dataclass(frozen=True)
class Prompt:
    """One prompt to speak: its catalog id, language, filled text and the values used.
    ``secret`` names the values that are secrets (a callback code): drivers speak them
    to the caller but never log them, nor the text they fill."""

    id: str
    language: str
    text: str
    values: Mapping[str, str] = field(default_factory=dict)
    secret: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        text = self.text
        for name in self.secret:
            if self.values.get(name):
                text = text.replace(self.values[name], MASK)
        values = {k: (MASK if k in self.secret else v) for k, v in self.values.items()}
        shown = f"id={self.id!r}, language={self.language!r}, text={text!r}, values={values!r}"
        return f"Prompt({shown})"

    __str__ = __repr__


@dataclass(frozen=True)
class Play:
    """Speak these prompts. The caller cannot interrupt them, unless a ``Gather`` that
    takes type-ahead closes the same step (see ``typed_ahead_into``)."""

    prompts: tuple[Prompt, ...]


@dataclass(frozen=True)
class Gather:
    """Speak the prompts (interruptible) and collect keys; answer with Digits or Timeout."""

    node: str
    prompts: tuple[Prompt, ...]
    min_digits: int
    max_digits: int
    timeout: float
    finish_key: str | None = None
    secure: bool = False
    #: A key pressed during the ``Play`` actions before this one (in the same step) ends
    #: them and is this gather's first key; its prompts are then not played.
    type_ahead: bool = True


@dataclass(frozen=True)
class SetData:
    """A call-data value changed (drivers may mirror it, e.g. as a channel variable)."""

    name: str
    value: str


@dataclass(frozen=True)
class RunAction:
    """Run a use case and answer with a ``Result``. Secure arguments never show in repr."""

    node: str
    name: str
    args: Mapping[str, str]
    secure: frozenset[str] = frozenset()

    def public_args(self) -> dict[str, str]:
        return {k: (MASK if k in self.secure else v) for k, v in self.args.items()}

    def __repr__(self) -> str:
        return f"RunAction(node={self.node!r}, name={self.name!r}, args={self.public_args()!r})"

    __str__ = __repr__


@dataclass(frozen=True)
class Enqueue:
    """Hand the caller to the agent queue (ends the flow). ``policy`` is the queue's (with
    the node's overrides); it says how the wait goes, not where the caller goes, so it
    takes no part in comparisons."""

    queue: str
    priority: int
    skill: str
    callback: str
    language: str
    policy: QueuePolicy = field(default_factory=QueuePolicy, compare=False)


@dataclass(frozen=True)
class Transfer:
    """Send the call to another destination (ends the flow)."""

    to: str


@dataclass(frozen=True)
class Hangup:
    """End the call with this recorded outcome."""

    outcome: str


@dataclass(frozen=True)
class Record:
    """Speak the prompts, then record the caller's voice for at most ``max_seconds``
    (``#`` or a few seconds of silence end it); answer with ``Recorded``. ``name`` is a
    file-safe stem unique to the call and the node's visit (``call id-node-visit``):
    the driver keeps the recording under it (or under its phone system's own id)."""

    node: str
    prompts: tuple[Prompt, ...]
    max_seconds: int
    name: str


Action = Play | Gather | SetData | RunAction | Enqueue | Transfer | Hangup | Record
#: The actions a phone line carries out (``RunAction`` is the call session's own). Each
#: driver has one table from these types to what it does (``tests/unit/phone/
#: test_action_tables.py`` holds every table to all of them).
LINE_ACTIONS: frozenset[type] = frozenset(
    {Play, Gather, SetData, Enqueue, Transfer, Hangup, Record}
)


def typed_ahead_into(actions: Sequence[Action]) -> Gather | None:
    """The gather that keys pressed during this step's ``Play`` actions go to: the step's
    closing ``Gather`` if it takes type-ahead, else None (the plays are not interruptible).
    A key typed ahead for a ``secure`` gather is a secret like the rest of its digits."""
    last = actions[-1] if actions else None
    return last if isinstance(last, Gather) and last.type_ahead else None
