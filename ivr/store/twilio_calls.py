"""Calls answered over Twilio webhooks, keyed by CallSid: the SQL adapter of the port
``ivr.phone.twilio.call_state.CallStates`` (structurally: the store imports no phone).

Any controller process may answer any webhook of a call, so each webhook *claims* its step
with a conditional update (``step = N - 1 -> N``, reply cleared): one process wins and
works out the reply, which it then saves; the others (and replays of the same webhook)
read that reply back. The claim is its own short transaction, so the use cases the
winner runs meanwhile (their own units of work) never wait on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from ivr.store.models import TwilioCallRow


@dataclass(frozen=True)
class TwilioCall:
    call_sid: str
    step: int
    memo: dict[str, Any]
    reply: str | None
    updated_at: datetime


class TwilioCalls:
    """The ``twilio_calls`` table; every method is one transaction."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def get(self, call_sid: str) -> TwilioCall | None:
        with self.sessions() as session:
            row = session.get(TwilioCallRow, call_sid)
            if row is None:
                return None
            return TwilioCall(row.call_sid, row.step, dict(row.memo), row.reply, row.updated_at)

    def create(self, call_sid: str, memo: dict[str, Any], now: datetime) -> bool:
        """Add the call at step 0 (claimed: no reply yet); False if it exists already."""
        with self.sessions() as session:
            if session.get(TwilioCallRow, call_sid) is not None:
                return False
            session.add(TwilioCallRow(call_sid=call_sid, step=0, memo=memo, updated_at=now))
            try:
                session.commit()
            except Exception:  # another process added it first
                session.rollback()
                if session.get(TwilioCallRow, call_sid) is None:
                    raise
                return False
            return True

    def claim(self, call_sid: str, step: int, now: datetime) -> bool:
        """Move the call from ``step - 1`` to ``step``; False if another process did."""
        with self.sessions() as session:
            done = session.execute(
                update(TwilioCallRow)
                .where(TwilioCallRow.call_sid == call_sid, TwilioCallRow.step == step - 1)
                .values(step=step, reply=None, updated_at=now)
            )
            session.commit()
            return bool(getattr(done, "rowcount", 0) == 1)

    def save(
        self, call_sid: str, step: int, memo: dict[str, Any], reply: str, now: datetime
    ) -> None:
        """The claimed step's reply and the call's new state."""
        with self.sessions() as session:
            session.execute(
                update(TwilioCallRow)
                .where(TwilioCallRow.call_sid == call_sid, TwilioCallRow.step == step)
                .values(memo=memo, reply=reply, updated_at=now)
            )
            session.commit()

    def sids(self) -> list[str]:
        with self.sessions() as session:
            return list(session.scalars(select(TwilioCallRow.call_sid)))
