"""Signing in to the web console: the password checks made, and the sessions opened."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ivr.store.base import Base


class AgentLoginAttemptRow(Base):
    """A web sign-in (form or HTTP Basic) with a password checked: by the username typed
    (which may match nobody), never the password. Failures since the latest success lock
    the username (``ivr.web.guard``)."""

    __tablename__ = "agent_login_attempts"
    __table_args__ = (Index("ix_agent_login_attempts_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime]
    succeeded: Mapped[bool]


class WebSessionRow(Base):
    """A signed-in console session. The cookie carries a random id; only its SHA-256 is
    kept here, so the table alone opens no session. Signing out sets ``ended_at``."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
