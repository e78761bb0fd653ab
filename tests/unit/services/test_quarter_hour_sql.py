"""The reports' quarter-hour SQL: written for SQLite and PostgreSQL; any other database is
refused with a message that says so, not a bare NotImplementedError."""

from __future__ import annotations

import pytest
from sqlalchemy import column, select
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.exc import CompileError

from ivr.store.quarter_hours import quarter_hour


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()])
def test_the_two_databases_have_their_sql(dialect: object) -> None:
    sql = str(select(quarter_hour(column("at"))).compile(dialect=dialect))  # type: ignore[arg-type]
    assert "/ 900" in sql


def test_another_database_is_refused_by_name() -> None:
    with pytest.raises(CompileError, match="SQLite and PostgreSQL, not mysql"):
        select(quarter_hour(column("at"))).compile(dialect=mysql.dialect())
