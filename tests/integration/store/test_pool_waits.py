"""A unit of work that waits for a pooled connection in vain tries again (``POOL_TRIES``
waits of the pool's timeout) before it fails: a burst that empties the pool for a moment
costs a caller a pause, not the error route."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import sessionmaker

from ivr.services import metrics
from ivr.store import unit_of_work as uow_module
from ivr.store.db import PoolSize, connect
from ivr.store.unit_of_work import SqlUnitOfWork


def waits() -> float:
    return metrics.POOL_WAITS._value.get()  # type: ignore[attr-defined,no-any-return]


def test_a_wait_that_runs_out_once_is_tried_again(upgraded_url: str) -> None:
    engine = connect(upgraded_url, PoolSize(1, 0.3))
    try:
        busy = engine.connect()  # the pool's one connection, given back in a moment
        threading.Timer(0.5, busy.close).start()
        before = waits()
        with SqlUnitOfWork(sessionmaker(engine)) as uow:
            assert uow.session.execute(text("SELECT 1")).scalar_one() == 1
        assert waits() - before >= 1  # it waited in vain, then tried again
    finally:
        engine.dispose()


def test_a_pool_that_stays_empty_fails_the_unit_of_work_after_its_tries(
    upgraded_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uow_module, "POOL_RETRY_PAUSE", 0.0)
    engine = connect(upgraded_url, PoolSize(1, 0.1))
    busy = engine.connect()
    try:
        before = waits()
        with pytest.raises(PoolTimeout):
            with SqlUnitOfWork(sessionmaker(engine)):
                pass
        assert waits() - before == uow_module.POOL_TRIES
    finally:
        busy.close()
        engine.dispose()
