"""The declarative base every table derives from, and the column types they share:
times stored and read back as UTC, JSON for ``dict`` columns, call ids and E.164 numbers
of bounded length. The tables are in ``*_tables.py``; ``models.py`` gathers them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from ivr.services.call_ids import MAX_CALL_ID

#: A call id (CallSid, AGI uniqueid, console id); ``ivr.services.call_ids`` bounds it.
CallId = String(MAX_CALL_ID)
#: An E.164 number (``+`` and up to 15 digits) from ``ivr.services.caller_numbers``.
E164 = String(16)


class UtcDateTime(TypeDecorator[datetime]):
    """A point in time, stored as UTC and read back as UTC on every backend (SQLite keeps
    no offset; a PostgreSQL session may be in another time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a time without a time zone cannot be stored: {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON}
