"""``quarter_hour(column)``: a point in time as its quarter hour since the epoch (seconds
// 900), compiled for each backend, so the report groups calls by it in SQL that is the
same on SQLite and PostgreSQL (``ivr.services.report_hours`` folds the quarters into
local hours). Times are stored as UTC on both (``base.UtcDateTime``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from ivr.services.report_hours import QUARTER


class quarter_hour(FunctionElement[int]):  # noqa: N801 (an SQL function's name)
    type = Integer()
    inherit_cache = True


@compiles(quarter_hour, "sqlite")
def _sqlite(element: quarter_hour, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    inner = compiler.process(column, **kw)
    return f"(CAST(strftime('%s', {inner}) AS INTEGER) / {QUARTER})"


@compiles(quarter_hour, "postgresql")
def _postgresql(element: quarter_hour, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    inner = compiler.process(column, **kw)
    return f"CAST(floor(extract(epoch from {inner}) / {QUARTER}) AS INTEGER)"


@compiles(quarter_hour)
def _other(element: quarter_hour, compiler: SQLCompiler, **kw: Any) -> str:
    """Reports run on SQLite and PostgreSQL only: another database is refused clearly."""
    name = compiler.dialect.name
    raise CompileError(f"reports are written for SQLite and PostgreSQL, not {name}")
