"""The compiled, immutable flow: nodes, queues, registered use cases.

A ``Flow`` is what ``loader.load_flow`` returns after every check has passed, so the
engine can trust it: every target exists, every prompt has every language, every loop
is bounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo

from ivr.errors import SourcePosition
from ivr.flow.prompts import Catalog

#: The reserved menu target that plays the menu again.
REPEAT = "repeat"
#: The use case a ``verify`` node runs.
VERIFY_ACTION = "verify_identity"
#: Outcomes every use case may give besides its own: the use case failed to run.
ERROR_OUTCOME = "error"


@dataclass(frozen=True)
class ActionSpec:
    """A registered use case: the outcomes it can give and the call data it adds.

    ``outputs`` maps each data name to the fixed set of values it takes, or ``None``
    for free text (amounts, dates, references).
    """

    name: str
    outcomes: frozenset[str]
    outputs: Mapping[str, frozenset[str] | None] = field(default_factory=dict)


#: ``when_no_agents: callback``: say so and offer the callback at once.
CALLBACK_AT_ONCE = "callback"


@dataclass(frozen=True)
class QueuePolicy:
    """What callers of a queue can expect (``queues:`` entries; a queue node may override
    all but ``ring_timeout``). Durations in seconds; targets are node ids.

    - ``max_wait``: after this long on hold the caller is offered a callback, or sent to
      ``on_max_wait`` when that names a node;
    - ``when_no_agents``: no agent with the skill and the language is signed in:
      ``callback`` (say so, offer the callback at once) or a node (e.g. after hours);
    - ``announce_every``: say the position again at this interval (0: only when it
      changed meaningfully, ``estimates.should_announce``);
    - ``ring_timeout``: how long an offered agent's phone rings.
    """

    max_wait: float = 900.0
    on_max_wait: str | None = None
    when_no_agents: str = CALLBACK_AT_ONCE
    announce_every: float = 180.0
    ring_timeout: float = 20.0

    @property
    def no_agents_node(self) -> str | None:
        """The node to go to when nobody is signed in (None: the callback offer)."""
        return None if self.when_no_agents == CALLBACK_AT_ONCE else self.when_no_agents

    def targets(self) -> list[tuple[str, str]]:
        """``(key, node)`` for every node the policy may send a caller to."""
        out = [("on_max_wait", self.on_max_wait)] if self.on_max_wait else []
        if self.no_agents_node:
            out.append(("when_no_agents", self.no_agents_node))
        return out


@dataclass(frozen=True)
class QueueSpec:
    name: str
    priority: int
    skill: str
    policy: QueuePolicy = field(default_factory=QueuePolicy)


@dataclass(frozen=True, kw_only=True)
class Node:
    """What every node has. ``set`` is stored on entry; ``max_visits`` bounds loops."""

    id: str
    position: SourcePosition
    set: Mapping[str, str] = field(default_factory=dict)
    max_visits: int | None = None
    on_max_visits: str | None = None

    def edges(self) -> list[tuple[str, str]]:
        """``(label, target)`` for every way out of this node (``repeat`` excluded)."""
        out = [(label, target) for label, target in self._edges() if target != REPEAT]
        if self.max_visits is not None and self.on_max_visits:
            out.append(("on_max_visits", self.on_max_visits))
        return out

    def _edges(self) -> list[tuple[str, str]]:
        return []

    @property
    def waits(self) -> bool:
        """True if the node stops and waits for an event (input or a use case)."""
        return False

    @property
    def ends(self) -> bool:
        """True if the node ends the flow (queue, transfer, hangup)."""
        return False


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

    def _edges(self) -> list[tuple[str, str]]:
        return [
            ("retry", self.retry),
            ("on_success", self.on_success),
            ("on_failure", self.on_failure),
            ("on_locked", self.on_locked),
            ("on_error", self.on_error),
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


CALLBACK_MODES = ("offer", "only", "never")


@dataclass(frozen=True)
class Flow:
    """A loaded hotline: nodes by id, the prompt catalog, queues and use cases."""

    source: str
    start: str
    languages: tuple[str, ...]
    default_language: str
    nodes: Mapping[str, Node]
    catalog: Catalog
    queues: Mapping[str, QueueSpec]
    actions: Mapping[str, ActionSpec]
    catalog_source: str = ""
