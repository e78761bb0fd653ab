"""The compiled, immutable flow: what every node has, queues, registered use cases
(the node kinds are in ``nodes.py``).

A ``Flow`` is what ``loader.load_flow`` returns after every check has passed, so the
engine can trust it: every target exists, every prompt has every language, every loop
is bounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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


#: What a ``queue`` node's ``callback`` may be.
CALLBACK_MODES = ("offer", "only", "never")

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
    #: The hotline's time zone (IANA name): its reports' days and hours.
    timezone: str = "UTC"
