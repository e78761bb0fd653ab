"""PostgreSQL connections the server closed while they sat in the pool (a restart, an
idle timeout): a connection idle for ``PING_AFTER_IDLE`` is pinged before it is handed
out, and a fresh one replaces it unseen; one that broke a moment after its last use fails
that one statement, and the pool is renewed for the next. A busy pool pings nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from ivr.store import db as store_db
from ivr.store.db import PoolSize, connect


@pytest.fixture
def pooled(postgres_admin: Engine, database_url: str) -> Iterator[Engine]:
    if not database_url.startswith("postgresql"):
        pytest.skip("pings are PostgreSQL's (an SQLite file has no server to lose)")
    engine = connect(database_url, PoolSize(2, 5.0))
    yield engine
    engine.dispose()


@pytest.fixture
def pings(pooled: Engine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The connections the pool pinged (the dialect's ping, raw: no statement event)."""
    seen: list[object] = []
    plain = pooled.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        seen.append(dbapi_connection)
        return plain(dbapi_connection)  # type: ignore[arg-type]

    monkeypatch.setattr(pooled.dialect, "do_ping", counted)
    return seen


def backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(admin: Engine, pid: int) -> None:
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_an_idle_connection_the_server_closed_is_replaced_unseen(
    pooled: Engine, postgres_admin: Engine, monkeypatch: pytest.MonkeyPatch, pings: list[object]
) -> None:
    pid = backend_pid(pooled)
    terminate(postgres_admin, pid)
    monkeypatch.setattr(store_db, "PING_AFTER_IDLE", 0.0)  # every pooled one counts as idle

    assert backend_pid(pooled) != pid  # the ping found it closed: a new connection
    assert len(pings) == 1


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_connection_that_broke_right_after_use_fails_once_then_the_pool_is_renewed(
    pooled: Engine, postgres_admin: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_db, "PING_AFTER_IDLE", 3600.0)  # none is idle: no ping
    pid = backend_pid(pooled)
    terminate(postgres_admin, pid)

    with pytest.raises(DBAPIError) as failed:
        backend_pid(pooled)
    assert failed.value.connection_invalidated
    assert backend_pid(pooled) != pid


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_busy_pool_pings_nothing(pooled: Engine, pings: list[object]) -> None:
    for _ in range(20):
        backend_pid(pooled)
    assert pings == []
