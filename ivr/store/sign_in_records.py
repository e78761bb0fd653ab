"""What web sign-in keeps in the database (``ivr.services.sign_in_ports``), so that every
process and every restart sees it: the sign-in attempts per username (for the lockout) and
the console's sessions (so that signing out ends a session everywhere). Every method is
one short transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker

from ivr.services.sign_in_ports import SignInRecords, WebSession
from ivr.store.lockout_queries import failures_after_success
from ivr.store.models import AgentLoginAttemptRow as Attempt
from ivr.store.models import WebSessionRow

#: Usernames are kept to this length (no agent's is longer: ``agents.username``).
USERNAME_LIMIT = 80


class SqlSignInRecords(SignInRecords):
    """The ``agent_login_attempts`` and ``web_sessions`` tables."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def failures(self, username: str, since: datetime) -> list[datetime]:
        """When ``username`` failed to sign in, since ``since`` and after its latest success."""
        whose = Attempt.username == username[:USERNAME_LIMIT]
        with self.sessions() as session:
            return failures_after_success(session, Attempt, whose, since)

    def attempt(self, username: str, at: datetime, succeeded: bool, keep_since: datetime) -> None:
        """Record an attempt; the username's attempts before ``keep_since`` (too old to
        matter) go."""
        key = username[:USERNAME_LIMIT]
        with self.sessions() as session:
            session.execute(delete(Attempt).where(Attempt.username == key, Attempt.at < keep_since))
            session.add(Attempt(username=key, at=at, succeeded=succeeded))
            session.commit()

    def open_session(self, id_hash: str, agent_id: int, at: datetime) -> None:
        with self.sessions() as session:
            session.add(
                WebSessionRow(id_hash=id_hash, agent_id=agent_id, created_at=at, last_seen_at=at)
            )
            session.commit()

    def session(self, id_hash: str) -> WebSession | None:
        with self.sessions() as session:
            row = session.get(WebSessionRow, id_hash)
            if row is None:
                return None
            return WebSession(row.agent_id, row.created_at, row.last_seen_at, row.ended_at)

    def seen(self, id_hash: str, at: datetime) -> None:
        self._set(id_hash, last_seen_at=at)

    def end_session(self, id_hash: str, at: datetime) -> None:
        self._set(id_hash, ended_at=at)

    def end_sessions_of(self, agent_id: int, at: datetime) -> int:
        with self.sessions() as session:
            result = session.execute(
                update(WebSessionRow)
                .where(WebSessionRow.agent_id == agent_id, WebSessionRow.ended_at.is_(None))
                .values(ended_at=at)
            )
            session.commit()
            return int(getattr(result, "rowcount", 0) or 0)

    def _set(self, id_hash: str, **values: datetime) -> None:
        with self.sessions() as session:
            session.execute(
                update(WebSessionRow)
                .where(WebSessionRow.id_hash == id_hash, WebSessionRow.ended_at.is_(None))
                .values(**values)
            )
            session.commit()
