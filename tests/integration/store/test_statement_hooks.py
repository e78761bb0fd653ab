"""When a statement may go to the driver directly (``ivr.store.statement_hooks``): always,
but for a hook other than the FastAGI gate's or the statement log; the gate's halves are
called around a direct statement as around any other."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text

from ivr.store import statement_hooks


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
