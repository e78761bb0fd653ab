"""One statement in a transaction of its own (autocommit) on a connection already taken
from the pool (``SqlUnitOfWork.run_alone``), its rows as mappings.

The statement is compiled once per dialect, then sent on the pooled connection's DBAPI
connection directly: SQLAlchemy's execution path (the compiled cache's lookup, each
parameter's processing, the result's metadata) cost more client CPU than the round
trip itself, for the few statements an agent's desk runs dozens of times a minute. What
it did for us is done here: the bound values go through their types' processors (times
to UTC), times come back as UTC, a DBAPI error is raised as SQLAlchemy's (a lost
connection invalidated first, as SQLAlchemy does). Where something listens to the
engine's statements (the FastAGI gate's waits, a profile's count) or the DBAPI
connection is an asyncio adapter (a call's greenlet), the statement takes SQLAlchemy's
path instead: those hooks see it as they see any other; the FastAGI gate's own hook is
called around the statement instead (``statement_hooks``). On SQLite the statement goes
to ``sqlite3`` in its autocommit mode (SQLAlchemy's own autocommit there set and reset
the isolation level with a PRAGMA each time, which cost more than the statement), its
rows read through their columns' types (SQLite keeps times as text).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Executable
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

from ivr.store import statement_hooks
from ivr.store.built_once import built_once

#: The column names each statement's SQL returns (``Compiled.names``).
_NAMES: dict[str, list[str]] = {}


@dataclass(frozen=True)
class Compiled:
    """A statement's SQL for one dialect, its constant parameters and its processors,
    and the processors of the columns it returns (None: the value as it comes)."""

    sql: str
    constants: Mapping[str, Any]
    processors: Mapping[str, Callable[[Any], Any]]
    results: tuple[tuple[str, Callable[[Any], Any] | None], ...] = ()

    def names(self, cursor: Any) -> list[str]:
        """The names of the columns the statement returns (none: it returns no rows),
        read from its first result and kept: a cursor's ``description`` is built anew
        at each look, an object per column."""
        known = _NAMES.get(self.sql)
        if known is None:
            described = cursor.description
            known = [] if described is None else [column.name for column in described]
            _NAMES[self.sql] = known
        return known

    def parameters(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` with the constants, each through its type's processor."""
        bound = {**self.constants, **values}
        for name, process in self.processors.items():
            bound[name] = process(bound[name])
        return bound


@built_once
def compiled(statement: Executable, dialect: Dialect) -> Compiled:
    """``statement`` for ``dialect``, once (the statements are built once too)."""
    made = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    processors = {}
    for name, bind in made.binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)  # as the engine does
        if process is not None:
            processors[name] = process
    constants = {
        name: bind.effective_value for name, bind in made.binds.items() if not bind.required
    }
    results = tuple(
        (column[0], column[3].dialect_impl(dialect).result_processor(dialect, None))
        for column in getattr(made, "_result_columns", ())
    )
    return Compiled(made.string, constants, processors, results)


#: SQLite's statements as sent to ``sqlite3`` directly (named parameters: a dict binds them).
SQLITE = sqlite.dialect(paramstyle="named")


def run(connection: Connection, statement: Executable, values: Mapping[str, Any]) -> list[Any]:
    """``statement`` with ``values`` in autocommit on ``connection``; its rows as
    mappings of column name to value."""
    raw: Any = connection.connection.dbapi_connection
    engine = connection.engine
    waits = statement_hooks.direct(engine)
    if waits is not None and isinstance(raw, sqlite3.Connection):
        return _sqlite(connection, raw, statement, values, waits)
    if waits is None or not type(raw).__module__.startswith("psycopg"):  # or asyncio's
        alone = connection.execution_options(isolation_level="AUTOCOMMIT")
        return [row._mapping for row in alone.execute(statement, dict(values))]
    sql = compiled(statement, connection.dialect)
    parameters = sql.parameters(values)
    try:
        raw.autocommit = True
        waits.out()
        try:
            with raw.cursor() as cursor:
                cursor.execute(sql.sql, parameters)
                names = sql.names(cursor)
                return [dict(zip(names, map(_utc, row), strict=True)) for row in cursor]
        finally:
            waits.back()
            if not raw.closed:
                raw.autocommit = False
    except connection.dialect.loaded_dbapi.Error as error:
        lost = connection.dialect.is_disconnect(error, raw, None)
        if lost:
            connection.invalidate(error)
        raise DBAPIError.instance(
            sql.sql, parameters, error, connection.dialect.loaded_dbapi.Error,
            hide_parameters=True, connection_invalidated=lost, dialect=connection.dialect,
        ) from error  # fmt: skip


def _sqlite(
    connection: Connection,
    raw: sqlite3.Connection,
    statement: Executable,
    values: Mapping[str, Any],
    waits: statement_hooks.Waits,
) -> list[Any]:
    """``run`` on SQLite: the statement in ``sqlite3``'s autocommit (no BEGIN, no
    COMMIT; SQLAlchemy's own way there sets and resets the isolation level with a PRAGMA
    each time)."""
    sql = compiled(statement, SQLITE)
    return sqlite_rows(connection, sql, sql.parameters(values), waits)


def sqlite_rows(
    connection: Connection,
    sql: Compiled,
    parameters: Mapping[str, Any],
    waits: statement_hooks.Waits,
) -> list[dict[str, Any]]:
    """``sql`` (compiled for ``SQLITE``) with ``parameters`` (processed) on
    ``connection``'s ``sqlite3`` connection in its autocommit, with no transaction of its
    own open; its rows read through their columns' types (SQLite keeps times as text)."""
    raw: Any = connection.connection.dbapi_connection
    level = raw.isolation_level
    raw.isolation_level = None  # autocommit
    waits.out()
    try:
        rows = raw.execute(sql.sql, parameters).fetchall()  # all read: done and committed
    except sqlite3.Error as error:
        raise DBAPIError.instance(
            sql.sql, parameters, error, sqlite3.Error, hide_parameters=True,
            dialect=connection.dialect,
        ) from error  # fmt: skip
    finally:
        waits.back()
        raw.isolation_level = level
    names = [name for name, _ in sql.results]
    process = [processor for _, processor in sql.results]
    return [
        {n: v if p is None else p(v) for n, p, v in zip(names, process, row, strict=True)}
        for row in rows
    ]


def _utc(value: Any) -> Any:
    """A time as UTC (``UtcDateTime``'s reading; the server's zone may be another)."""
    return value.astimezone(UTC) if isinstance(value, datetime) else value
