"""Alembic's environment: runs migrations on the engine ``ivr db upgrade`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from ivr.store.models import Base

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations with `ivr db upgrade`, which supplies the database")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
