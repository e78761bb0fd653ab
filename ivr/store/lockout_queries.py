"""The SQL behind the lockout rules (``ivr.services.lockout``): which rows are the same
caller's, and the failed attempts since the latest success."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ivr.services.caller_numbers import e164
from ivr.store.account_tables import VerificationAttemptRow
from ivr.store.contact_tables import CodeAttemptRow
from ivr.store.sign_in_tables import AgentLoginAttemptRow


def same_caller(
    raw: InstrumentedAttribute[str],
    number: InstrumentedAttribute[str | None],
    caller_id: str,
) -> ColumnElement[bool]:
    """Rows of the same caller as ``caller_id``: the same E.164 number when it has one
    (``+8613800138001`` and ``sip:+8613800138001@carrier`` are one caller); otherwise the
    same raw value among rows without a number (``anonymous``, an extension). Both use an
    index on ``(number, at)``."""
    found = e164(caller_id)
    if found is not None:
        return number == found
    return number.is_(None) & (raw == caller_id)


def failures_after_success(
    session: Session,
    attempt: type[VerificationAttemptRow | CodeAttemptRow | AgentLoginAttemptRow],
    whose: ColumnElement[bool],
    since: datetime,
) -> list[datetime]:
    """When the failed attempts of ``attempt`` rows (a table with ``at`` and
    ``succeeded``) matching ``whose`` were made, since ``since`` and after the latest
    success: what a lockout rule counts (``ivr.services.lockout``)."""
    last_success = (
        select(func.max(attempt.at)).where(whose, attempt.succeeded.is_(True)).scalar_subquery()
    )
    rows = session.connection().execute(  # values only: no ORM loading (a call's hot path)
        select(attempt.at).where(
            whose,
            attempt.succeeded.is_(False),
            attempt.at >= since,
            (attempt.at > last_success) | last_success.is_(None),
        )
    )
    return list(rows.scalars())
