"""The SQL unit of work: one session, one transaction, the repositories bound to it."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from ivr.services import ports
from ivr.store import repositories as repo


class SqlUnitOfWork(ports.UnitOfWork):
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.session = sessions()
        self.accounts = repo.SqlAccounts(self.session)
        self.verifications = repo.SqlVerificationLog(self.session)
        self.requests = repo.SqlRequests(self.session)
        self.audit = repo.SqlAuditLog(self.session)
        self.calls = repo.SqlCallRecords(self.session)

    def __exit__(self, *exc: object) -> None:
        try:
            self.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
