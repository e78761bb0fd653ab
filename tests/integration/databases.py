"""The integration tests' databases of one backend: a fresh one per test, a copy of one
seeded template per process (``tests/integration/conftest.py`` hands them out).

Seeding hashes five PINs with scrypt and the schema takes a dozen migrations, so the
template is upgraded and seeded once per process and backend (no test connects to it:
each copies it). On SQLite a copy is the backup API on a file (milliseconds). On
PostgreSQL ``CREATE DATABASE ... TEMPLATE`` writes a whole database (its catalogs too)
through the WAL, from a fraction of a second to seconds on a busy server: once a kind of
database has been asked for twice, the next one is made in a background thread while the
test runs, and a finished test's database is dropped there too. Each test still gets a
database nobody else has used.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

#: Threads that drop finished tests' PostgreSQL databases.
DROPPERS = 4


class Databases:
    """Creates and drops the test databases of one backend (``admin``: PostgreSQL's)."""

    def __init__(self, name: str, folder: Path, admin: Engine | None = None) -> None:
        self.name = name
        self.folder = folder
        self.admin = admin
        self.made: list[str] = []
        self._template: str | None = None
        #: What tests asked copies of (None: an empty database); the next copy, made ahead.
        self._asked: set[str | None] = set()
        self._ready: dict[str | None, Future[str]] = {}
        self._dropping: list[Future[None]] = []
        # one thread makes copies, others drop: a copy never waits behind a drop, and drops
        # at once share the checkpoint each one asks the server for (one at a time, they
        # fall behind the tests)
        self._background, self._dropper = (
            (
                ThreadPoolExecutor(1, thread_name_prefix=f"ivr-{name}-create"),
                ThreadPoolExecutor(DROPPERS, thread_name_prefix=f"ivr-{name}-drop"),
            )
            if admin is not None
            else (None, None)
        )

    def seeded_template(self, prepare: Callable[[str], None]) -> str:
        """The process's template: an empty database ``prepare`` upgraded and seeded, on
        first use. Only ever copied, never connected to."""
        if self._template is None:
            url = self._make(None)
            self.made.append(url)
            prepare(url)
            self._template = url
        return self._template

    def create(self, copy_of: str | None = None) -> str:
        """A new database (empty, or a copy of ``copy_of``); returns its URL."""
        ready = self._ready.pop(copy_of, None)
        url = ready.result() if ready is not None else self._make(copy_of)
        if self._background is not None and copy_of in self._asked:
            self._ready[copy_of] = self._background.submit(self._make, copy_of)
        self._asked.add(copy_of)
        self.made.append(url)
        return url

    def drop(self, url: str) -> None:
        if url not in self.made:
            return
        self.made.remove(url)
        if self._dropper is not None:
            self._dropping.append(self._dropper.submit(self._drop, url))
        # SQLite: a file in a temporary folder

    def drop_all(self) -> None:
        """Every database made, the template and the ones made ahead too; waits for them."""
        for url in [u for u in self.made if u != self._template]:
            self.drop(url)
        for ready in self._ready.values():
            self._dropping.append(self._dropper.submit(self._drop, ready.result()))  # type: ignore[union-attr]
        self._ready.clear()
        if self._template is not None:
            self.drop(self._template)
            self._template = None
        failed = [e for f in self._dropping if (e := f.exception()) is not None]
        self._dropping.clear()
        if self._background is not None and self._dropper is not None:
            self._background.shutdown()
            self._dropper.shutdown()
        if failed:  # every drop was tried; the first failure tells
            raise failed[0]

    def _make(self, copy_of: str | None) -> str:
        label = f"ivr_test_{secrets.token_hex(6)}"
        if self.admin is None:
            path = self.folder / f"{label}.sqlite3"
            if copy_of is not None:
                source = sqlite3.connect(make_url(copy_of).database or "")
                target = sqlite3.connect(path)
                try:
                    source.backup(target)
                finally:
                    source.close()
                    target.close()
            return f"sqlite:///{path}"
        template = ""
        if copy_of is not None:
            template = f' TEMPLATE "{make_url(copy_of).database}"'
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{label}"{template}'))
        return make_url(self.admin.url).set(database=label).render_as_string(hide_password=False)

    def _drop(self, url: str) -> None:
        assert self.admin is not None
        name = make_url(url).database
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
