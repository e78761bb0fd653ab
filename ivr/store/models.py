"""The tables. Money is in minor units (cents, fen); times are UTC; PINs and codes are
stored only as hashes. A caller id is kept as the network sent it (``Text``, never
indexed) beside the E.164 number extracted from it (``*_e164``, NULL when there is none),
which is what lookups by caller match on.

Every table, gathered here so that ``Base.metadata`` knows them all (Alembic's
``migrations/env.py`` and the tests take it from here). The tables themselves are
defined by family: ``account_tables``, ``call_tables``, ``contact_tables``, ``complaint_tables``,
``sign_in_tables``, on the base in ``base``.
"""

from __future__ import annotations

from ivr.store.account_tables import (
    AccountRow,
    ClosureRequestRow,
    PasswordResetRow,
    SecurityIncidentRow,
    SmsOutboxRow,
    TransactionRow,
    VerificationAttemptRow,
)
from ivr.store.base import Base
from ivr.store.call_tables import (
    AuditRow,
    CallNodeVisitRow,
    CallRecordRow,
    TwilioCallRow,
)
from ivr.store.complaint_tables import ComplaintEventRow, ComplaintRow
from ivr.store.contact_tables import (
    AgentNoteRow,
    AgentRow,
    CallbackRow,
    CodeAttemptRow,
    QueueEntryRow,
)
from ivr.store.sign_in_tables import (
    AgentLoginAttemptRow,
    WebSessionRow,
)
from ivr.store.survey_tables import RecordingRow, SurveyAnswerRow

__all__ = [
    "Base",
    "AccountRow",
    "AgentLoginAttemptRow",
    "AgentNoteRow",
    "AgentRow",
    "AuditRow",
    "CallNodeVisitRow",
    "CallRecordRow",
    "CallbackRow",
    "ClosureRequestRow",
    "CodeAttemptRow",
    "ComplaintEventRow",
    "ComplaintRow",
    "PasswordResetRow",
    "QueueEntryRow",
    "RecordingRow",
    "SecurityIncidentRow",
    "SmsOutboxRow",
    "SurveyAnswerRow",
    "TransactionRow",
    "TwilioCallRow",
    "VerificationAttemptRow",
    "WebSessionRow",
]
