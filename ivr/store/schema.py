"""Schema versions through Alembic: upgrading, and refusing to run on an old schema.

The check that runs on every start (``require_current``) reads the version table with
plain SQL against ``HEAD``; Alembic itself is imported only to upgrade, so a per-call AGI
script does not pay for it. A test keeps ``HEAD`` equal to the newest migration.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from ivr.errors import IvrError
from ivr.store.db import redact

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The newest migration this code was written for (tests/integration/store/test_store.py checks it).
HEAD = "0015"
VERSION_TABLE = "alembic_version"


class SchemaOutOfDate(IvrError):
    """The database's schema is not the one this code was written for."""


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest migration on disk (Alembic's view; ``HEAD`` must equal it)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None, "no migrations"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; return (before, after)."""
    from alembic import command

    before = current_revision(engine)
    command.upgrade(alembic_config(engine), "head")
    return before, head_revision()


def require_current(engine: Engine) -> None:
    """Raise ``SchemaOutOfDate`` naming the command that fixes it, unless the database is
    at exactly the revision this code expects."""
    current = current_revision(engine)
    if current == HEAD:
        return
    where = redact(str(engine.url))
    state = "has no hotline tables yet" if current is None else f"is at schema revision {current}"
    fix = "run `ivr db upgrade`" if is_older(current) else "upgrade this program"
    raise SchemaOutOfDate(f"the database {where} {state}; this code needs {HEAD}: {fix}")


def is_older(current: str | None) -> bool:
    """Whether ``current`` (None: no schema yet) comes before ``HEAD``, so that
    ``upgrade`` brings it there; False for ``HEAD`` itself or a revision this code does not
    know (a newer program's)."""
    if current == HEAD:
        return False
    if current is None:
        return True
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(MIGRATIONS))
    return any(rev.revision == current for rev in scripts.walk_revisions("base", HEAD))
