"""The database's part of ``/readyz``: reachable, and at the schema this code expects
(``ivr.store.schema.HEAD``). One short connection; on PostgreSQL the statements may run
``STATEMENT_TIMEOUT_MS`` at most (the caller bounds the whole, ``BoundedCall``)."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from ivr.services.readiness import DATABASE, SCHEMA, Check
from ivr.store.schema import HEAD, VERSION_TABLE

STATEMENT_TIMEOUT_MS = 2000


def database_checks(engine: Engine) -> list[Check]:
    """The database and schema checks; an unreachable database raises (SQLAlchemyError)."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
        conn.execute(text("SELECT 1"))
        current = None
        if inspect(conn).has_table(VERSION_TABLE):
            current = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    reachable = Check(DATABASE, True)
    if current == HEAD:
        return [reachable, Check(SCHEMA, True, f"at {HEAD}")]
    state = "no hotline tables" if current is None else f"at {current}"
    return [reachable, Check(SCHEMA, False, f"{state}; this code needs {HEAD}")]
