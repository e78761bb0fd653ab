"""Schema versions through Alembic: upgrading, and refusing to run on an old schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from ivr.errors import IvrError
from ivr.store.db import redact

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class SchemaOutOfDate(IvrError):
    """The database's schema is not the one this code was written for."""


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None, "no migrations"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; return (before, after)."""
    before = current_revision(engine)
    command.upgrade(alembic_config(engine), "head")
    return before, head_revision()


def require_current(engine: Engine) -> None:
    """Raise ``SchemaOutOfDate`` naming the command that fixes it, unless the database is
    at exactly the revision this code expects."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    where = redact(str(engine.url))
    if current is None:
        state = "has no hotline tables yet"
    else:
        state = f"is at schema revision {current}"
    fix = "run `ivr db upgrade`" if _is_older(current, head) else "upgrade this program"
    raise SchemaOutOfDate(f"the database {where} {state}; this code needs {head}: {fix}")


def _is_older(current: str | None, head: str) -> bool:
    if current is None:
        return True
    scripts = ScriptDirectory(str(MIGRATIONS))
    return any(rev.revision == current for rev in scripts.walk_revisions("base", head))
