"""The port web sign-in keeps its records through: the failed sign-ins per username (for
the lockout) and the console's server-side sessions. ``ivr.store.sign_in_records``
implements it in the database, so every process and every restart sees the same."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class WebSession:
    """One console session, found by the hash of its id."""

    agent_id: int
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None


class SignInRecords(abc.ABC):
    """Sign-in attempts and console sessions; each method is one short transaction."""

    @abc.abstractmethod
    def failures(self, username: str, since: datetime) -> list[datetime]:
        """When ``username`` failed to sign in, since ``since`` and after its latest success."""

    @abc.abstractmethod
    def attempt(self, username: str, at: datetime, succeeded: bool, keep_since: datetime) -> None:
        """Record an attempt; the username's attempts before ``keep_since`` may go."""

    @abc.abstractmethod
    def open_session(self, id_hash: str, agent_id: int, at: datetime) -> None: ...

    @abc.abstractmethod
    def session(self, id_hash: str) -> WebSession | None: ...

    @abc.abstractmethod
    def seen(self, id_hash: str, at: datetime) -> None:
        """The session was used at ``at`` (unless it has ended)."""

    @abc.abstractmethod
    def end_session(self, id_hash: str, at: datetime) -> None:
        """The session ends at ``at`` (unless it has ended already)."""

    @abc.abstractmethod
    def end_sessions_of(self, agent_id: int, at: datetime) -> int:
        """Every open session of the agent ends at ``at`` (disabled, or a new password);
        how many there were."""
