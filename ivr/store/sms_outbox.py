"""SQL adapter for the SMS outbox: senders claim queued messages with a conditional
UPDATE, and a finished or expired message has its body redacted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ivr.services import outbox, ports
from ivr.store.account_tables import SmsOutboxRow


class SqlSmsOutbox(ports.SmsOutbox):
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, limit: int, created_after: datetime) -> list[ports.QueuedSms]:
        row = SmsOutboxRow
        candidates = self.session.scalars(
            select(row)
            .where(row.status == "queued", row.created_at > created_after)
            .order_by(row.id)
            .limit(limit)
        ).all()
        claimed = []
        for sms in candidates:
            # The conditional UPDATE is the claim: a row another sender took between the
            # SELECT and here (PostgreSQL waits for its commit, then re-checks) is skipped.
            taken = self.session.execute(
                update(row)
                .where(row.id == sms.id, row.status == "queued")
                .values(status="sending")
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(ports.QueuedSms(sms.id, sms.to, sms.body, sms.created_at))
        return claimed

    def finish(self, sms_id: int, status: str, at: datetime) -> None:
        row = SmsOutboxRow
        body = self.session.scalar(select(row.body).where(row.id == sms_id))
        if body is None:
            return
        self.session.execute(
            update(row)
            .where(row.id == sms_id, row.status == "sending")
            .values(
                status=status,
                sent_at=at if status == "sent" else None,
                body=outbox.redacted(body),
            )
            .execution_options(synchronize_session=False)
        )

    def expire(self, created_before: datetime) -> list[int]:
        row = SmsOutboxRow
        stale = self.session.execute(
            select(row.id, row.status, row.body)
            .where(
                row.status.in_(("queued", "sending")),  # finished rows were redacted then
                row.created_at <= created_before,
                row.body.not_like(outbox.REDACTED + "%"),
            )
            .order_by(row.id)
        ).all()
        expired = []
        for sms_id, status, body in stale:
            values: dict[str, str] = {"body": outbox.redacted(body)}
            if status == "queued":
                values["status"] = "expired"
            done = self.session.execute(
                update(row)
                .where(row.id == sms_id, row.status == status)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if status == "queued" and done.rowcount == 1:  # type: ignore[attr-defined]
                expired.append(sms_id)
        return expired
