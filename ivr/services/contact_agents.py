"""The agents' values: an agent (``Agent``, with their roles) and the note they leave on
a call (``Note``, one of ``DISPOSITIONS``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ivr.center.lifecycle import AVAILABLE, WRAP_UP

# Roles.
AGENT, SUPERVISOR = "agent", "supervisor"

DISPOSITIONS = ("resolved", "follow_up", "escalated", "wrong_number", "other")
#: Why an agent is paused (the ``paused`` state): said by the agent or a supervisor.
PAUSE_REASONS = ("break", "lunch", "training", "meeting", "coaching", "admin", "other")


@dataclass(frozen=True)
class Agent:
    id: int
    username: str
    name: str
    role: str  # agent | supervisor
    skills: frozenset[str]
    languages: frozenset[str]
    endpoint: str
    state: str
    state_since: datetime
    wrap_up_until: datetime | None
    #: The entry the agent was last offered: the desk follows it.
    entry_id: int | None = None
    #: Why a ``paused`` agent is paused (one of ``PAUSE_REASONS``); None otherwise.
    pause_reason: str | None = None
    #: A disabled agent cannot sign in and is offered no calls.
    disabled: bool = False

    def can_take(self, skill: str, language: str) -> bool:
        return skill in self.skills and language in self.languages

    def free_at(self, now: datetime) -> bool:
        """Available, or in a wrap-up that has run out (which counts as available)."""
        if self.state == AVAILABLE:
            return True
        return (
            self.state == WRAP_UP and self.wrap_up_until is not None and self.wrap_up_until <= now
        )


@dataclass(frozen=True)
class Note:
    at: datetime
    agent_name: str
    call_id: str
    disposition: str
    text: str
    account_number: str | None = None
