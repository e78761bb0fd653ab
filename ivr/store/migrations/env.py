"""Alembic's environment: runs migrations on the engine ``ivr db upgrade`` hands over.

On SQLite, batch migrations rebuild a table (copy, drop, rename), which foreign keys
would refuse for a table other rows point at; so the checks are off while migrations run
(``PRAGMA foreign_keys`` cannot change inside a transaction), and once they are done
they are back on and every reference is checked."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Engine

from ivr.store.models import Base

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations with `ivr db upgrade`, which supplies the database")


def _pragma(connection: Any, sql: str) -> list[Any]:
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        return list(cursor.execute(sql).fetchall())
    finally:
        cursor.close()


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _pragma(connection, "PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
    )
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        _pragma(connection, "PRAGMA foreign_keys=ON")
        broken = _pragma(connection, "PRAGMA foreign_key_check")
        if broken:
            raise RuntimeError(f"the migrated database has broken references: {broken[:5]}")
