"""The base of the contact center's SQL repositories (``agents``, ``queue_entries``,
``callbacks``): one session, and the compare-and-set update they all make.

Locks: ``lock*`` use ``SELECT ... FOR UPDATE`` (``SKIP LOCKED`` where a dispatcher picks
among rows); SQLAlchemy renders nothing for SQLite, where the unit of work's writer lock
and the compare-and-set updates (``change(..., expect=...)``) do the job. Every read
refreshes the row (``populate_existing``) so a row updated in SQL is never seen stale.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session


class SqlRepository:
    """A repository bound to the unit of work's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _change(self, model: Any, row_id: int, expect: tuple[str, ...] | None, values: Any) -> bool:
        table = model.__table__  # a plain UPDATE: the ORM's bulk path costs more than the SQL
        query = update(table).where(table.c.id == row_id)
        if expect is not None:
            query = query.where(table.c.state.in_(expect))
        result = self.session.execute(query.values(**values))
        return bool(getattr(result, "rowcount", 0) == 1)
