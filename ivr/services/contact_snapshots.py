"""What one reads of the contact center at a moment: where an entry stands (``Place``),
an offer made to an agent (``Assignment``), an agent's screen pop (``Desk``) and a
queue's numbers (``QueueStats``)."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.services.call_story import CallStory
from ivr.services.contact_agents import Agent, Note
from ivr.services.contact_callbacks import Callback
from ivr.services.contact_entries import Entry


@dataclass(frozen=True)
class Place:
    entry: Entry
    position: int
    estimate_seconds: int
    agent: Agent | None  # set when the entry is offered (the agent to dial)
    staffed: int = 1  # agents signed in with the entry's skill and language


@dataclass(frozen=True)
class Assignment:
    entry: Entry
    agent: Agent


@dataclass(frozen=True)
class Desk:
    """The screen pop: the agent, the entry they are on, and notes from earlier calls."""

    agent: Agent
    entry: Entry | None
    callback: Callback | None
    notes: list[Note]
    #: The call in words (holder, verification, what the IVR said, the path).
    story: CallStory | None = None


@dataclass(frozen=True)
class QueueStats:
    queue: str
    waiting: int
    longest_wait_seconds: int
    aht_seconds: int | None  # None: no call handled in the window yet
    handled_today: int
    abandoned_today: int
    callbacks_pending: int


@dataclass(frozen=True)
class AgentNow:
    """An agent and the call they are on or being offered (None when they have none)."""

    agent: Agent
    entry: Entry | None
