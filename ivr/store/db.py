"""Connecting to the database: an SQLite file by default, PostgreSQL when the URL says so."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True)
class PoolSize:
    """Connections an engine keeps at most, and how long a thread waits for one before
    ``sqlalchemy.exc.TimeoutError`` (the caller's use case then takes its error route)."""

    size: int
    timeout: float


def connect(url: str, pool: PoolSize | None = None, busy_timeout: float = 30) -> Engine:
    """An engine for ``url``. For SQLite the file's folder is created, foreign keys are
    enforced, and writers wait for each other (up to ``busy_timeout`` seconds) instead of
    failing at once. Statements' parameters (an SMS body, a hash) never appear in
    SQLAlchemy's log or errors. ``pool``: a fixed pool of at most that many connections,
    opened as needed and kept (None: SQLAlchemy's default, 5 and 10 more for a while, 30 s
    wait)."""
    _hide_rows()
    parsed = make_url(url)
    sizing: dict[str, Any] = {}
    if pool is not None:
        sizing = {"pool_size": pool.size, "max_overflow": 0, "pool_timeout": pool.timeout}
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(
            url, hide_parameters=True, connect_args=without_gss(parsed), **sizing
        )  # fmt: skip
        _ping_when_idle(engine)
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    else:
        sizing = {}  # one connection per thread: no pool to size
    engine = create_engine(
        url, connect_args={"timeout": busy_timeout}, hide_parameters=True, **sizing
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # Safe with WAL (no corruption); a power cut may lose the last commits, not more.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def connect_for_loop(url: str, pool: PoolSize | None = None) -> AsyncEngine | None:
    """An asyncio engine for ``url``, for the calls of an event loop
    (``ivr.phone.asterisk.fastagi_loop``: they run it through its ``sync_engine`` inside
    their greenlets, and its round trips wait on the loop); None for SQLite (its file is
    this process's, and a statement there is no network wait). Parameters hidden, idle
    connections pinged, as ``connect``'s."""
    if is_sqlite(url):
        return None
    from sqlalchemy.ext.asyncio import create_async_engine

    _hide_rows()
    sizing: dict[str, Any] = {}
    if pool is not None:
        sizing = {"pool_size": pool.size, "max_overflow": 0, "pool_timeout": pool.timeout}
    engine = create_async_engine(
        url, hide_parameters=True, connect_args=without_gss(make_url(url)), **sizing
    )  # fmt: skip
    _ping_when_idle(engine.sync_engine)
    return engine


def without_gss(url: URL) -> dict[str, str]:
    """libpq's ``gssencmode=disable`` unless ``url`` asks for a mode: the libpq bundled in
    psycopg's binary wheel tries GSSAPI encryption first by default, and its Kerberos
    library is not safe when threads connect at once (a segmentation fault seen here
    while test databases were dropped in parallel; psycopg's issue 1213). A site that
    uses Kerberos says ``?gssencmode=prefer`` (or ``require``) in the URL."""
    if "gssencmode" in url.query:
        return {}
    return {"gssencmode": "disable"}


#: A pooled connection unused for this long is pinged before it is handed out (a database
#: restarted meanwhile has closed it: a fresh one is opened instead, and nobody notices).
PING_AFTER_IDLE = 2.0


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's ``pool_pre_ping``, but only for connections idle ``PING_AFTER_IDLE``
    seconds or more: a busy server hands a connection out dozens of times a second, and a
    ping each time was a round trip per unit of work. A connection that broke while in
    use fails that one statement: SQLAlchemy then invalidates the whole pool, so the next
    unit of work opens fresh connections (the use case's caller takes the flow's error
    route, a call record goes to the spool)."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            if engine.dialect.is_disconnect(exc, dbapi_connection, None):  # type: ignore[arg-type]
                raise DisconnectionError("pooled connection closed by the server") from exc
            raise


class _NoRows(logging.Filter):
    """Drops SQLAlchemy's DEBUG records (the rows a query returned: SMS bodies, hashes);
    its INFO records (the statements, parameters hidden) pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def _hide_rows() -> None:
    engine_log = logging.getLogger("sqlalchemy.engine.Engine")
    if not any(isinstance(f, _NoRows) for f in engine_log.filters):
        engine_log.addFilter(_NoRows())


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)
