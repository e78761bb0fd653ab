"""A database made ready for the demo: its schema brought to the newest revision and the
demo accounts seeded, as ``make run`` / ``make call`` do with ``ivr db upgrade`` and
``ivr seed --demo``.

``ivr call`` does it by itself on the embedded SQLite database (the default
``var/ivr.sqlite3``, or any ``sqlite:`` URL), so that a fresh checkout can call the
hotline at once. A server database (PostgreSQL) is never migrated on the side: upgrading
it is the operator's step, and ``schema.require_current`` names the command to run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from ivr.app.bootstrap import Components
from ivr.errors import IvrError
from ivr.store import models as m
from ivr.store import schema
from ivr.store.db import redact
from ivr.store.seed import SeedReport, seed_demo


@dataclass(frozen=True)
class Prepared:
    """What ``prepare`` did: the schema revision before and after, and the seeding (None:
    not seeded, the database had accounts already)."""

    database: str
    before: str | None
    after: str | None
    seeded: SeedReport | None

    @property
    def changed(self) -> bool:
        return self.before != self.after or self._created > 0

    @property
    def _created(self) -> int:
        return 0 if self.seeded is None else self.seeded.created

    def said(self) -> str:
        """One line for the terminal, e.g. ``prepared sqlite:///var/ivr.sqlite3: ...``."""
        done = []
        if self.before != self.after:
            done.append(f"schema {self.before or 'empty'} -> {self.after}")
        if self._created:
            done.append(f"{self._created} demo accounts seeded")
        return f"prepared the database {self.database}: {', '.join(done) or 'nothing to do'}"


def is_embedded(url: str) -> bool:
    """Whether ``url`` is an SQLite database (a file of this machine's, or in memory)."""
    return make_url(url).get_backend_name() == "sqlite"


def prepare(hotline: Components, *, seed_only_if_empty: bool = False) -> Prepared:
    """The schema upgraded when it is older than this code (a newer one is left for
    ``require_current`` to refuse), and the demo accounts and agents seeded (idempotent;
    with ``seed_only_if_empty``, only in a database without any account)."""
    url = hotline.settings.database_url
    engine = hotline.database
    before = schema.current_revision(engine)
    if schema.is_older(before):
        schema.upgrade(engine)
    after = schema.current_revision(engine)
    sessions = hotline.sessions  # SchemaOutOfDate from here on a newer schema
    if seed_only_if_empty:
        with sessions() as session:
            if session.scalar(select(func.count()).select_from(m.AccountRow)):
                return Prepared(redact(url), before, after, None)
    report = seed_demo(sessions, hotline.clock.now(), pepper=hotline.pepper)
    return Prepared(redact(url), before, after, report)


def prepare_embedded(hotline: Components) -> Prepared | None:
    """``prepare`` (seeding only an empty database) on SQLite; None on a server database,
    which is left as it is."""
    url = hotline.settings.database_url
    if not is_embedded(url):
        return None
    _require_writable_folder(url)
    return prepare(hotline, seed_only_if_empty=True)


def _require_writable_folder(url: str) -> None:
    """An IvrError naming the folder when the SQLite file's folder cannot be made (a file
    in its place) or written (SQLite itself would only say "unable to open database
    file")."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return
    folder = Path(database).parent
    fix = "make it a writable folder or set IVR_DATABASE_URL"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IvrError(
            f"cannot make the database's folder {folder} ({exc.strerror}): {fix}"
        ) from None
    if not os.access(folder, os.W_OK):  # also a read-only file system, even for root
        raise IvrError(f"the database's folder {folder} is not writable: {fix}")
