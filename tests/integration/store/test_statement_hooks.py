"""When a statement may go to the driver directly (``ivr.store.statement_hooks``): always,
but for a hook other than the FastAGI gate's or the statement log; the gate's halves are
called around a direct statement as around any other; on SQLite, what such a statement
reads comes back through its columns' types (``ivr.store.statement_alone``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    Table,
    bindparam,
    create_engine,
    event,
    insert,
    text,
)  # fmt: skip
from sqlalchemy.exc import OperationalError

from ivr.store import statement_alone, statement_hooks
from ivr.store.base import UtcDateTime


@pytest.fixture
def engine() -> Iterator[Engine]:
    made = create_engine("sqlite://")
    yield made
    made.dispose()


def test_a_plain_engine_goes_direct(engine: Engine) -> None:
    assert statement_hooks.direct(engine) is statement_hooks.NO_WAITS


def test_the_gates_waits_are_called_on_both_paths(engine: Engine) -> None:
    calls: list[str] = []
    waits = statement_hooks.Waits(lambda: calls.append("out"), lambda: calls.append("back"))
    statement_hooks.wait_around(engine, waits)
    assert statement_hooks.direct(engine) is waits  # its own hook does not count
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        assert calls == ["out", "back"]
        with pytest.raises(Exception, match="no such table"):
            connection.execute(text("SELECT * FROM nowhere"))
    assert calls[2:] == ["out", "back"]  # an error ends the wait too


def test_another_hook_sends_statements_through_sqlalchemy(engine: Engine) -> None:
    statement_hooks.wait_around(engine, statement_hooks.NO_WAITS)

    def hook(*_: Any) -> None:
        pass

    event.listen(engine, "after_cursor_execute", hook)
    assert statement_hooks.direct(engine) is None
    event.remove(engine, "after_cursor_execute", hook)
    assert statement_hooks.direct(engine) is not None


def test_the_statement_log_sends_statements_through_sqlalchemy(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        assert statement_hooks.direct(engine) is None
    assert statement_hooks.direct(engine) is not None


def test_a_statement_alone_on_sqlite_reads_its_columns_through_their_types(
    tmp_path: Path,
) -> None:
    """``statement_alone.run`` on SQLite: autocommitted (another connection sees it at
    once), times read back as UTC times (SQLite keeps text), the connection's own
    transaction mode given back, and a failure raised as SQLAlchemy's error."""
    engine = create_engine(f"sqlite:///{tmp_path / 'alone.sqlite3'}")
    table = Table(
        "things", MetaData(), Column("id", Integer, primary_key=True), Column("at", UtcDateTime)
    )
    table.metadata.create_all(engine)
    at = datetime(2031, 5, 6, 7, 8, 9, 10, tzinfo=UTC)
    add = insert(table).values(at=bindparam("at")).returning(table.c.id, table.c.at)
    try:
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            level = raw.isolation_level  # type: ignore[union-attr]
            assert statement_alone.run(connection, add, {"at": at}) == [{"id": 1, "at": at}]
            assert raw.isolation_level == level  # type: ignore[union-attr]
            with engine.connect() as other:  # committed: seen from another connection
                assert other.execute(text("SELECT count(*) FROM things")).scalar() == 1
            with pytest.raises(OperationalError):
                gone = Table("gone", MetaData(), Column("x", Integer))
                statement_alone.run(connection, insert(gone).values(x=bindparam("x")), {"x": 1})
            assert raw.isolation_level == level  # type: ignore[union-attr]
    finally:
        engine.dispose()
