"""The callbacks' values: a callback request (``Callback``) and what a caller phoning
back with its code gets (``ResumeResult``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ivr.services.contact_entries import Entry


@dataclass(frozen=True)
class Callback:
    id: int
    entry_id: int
    number: str
    reason: str | None
    language: str
    account_number: str | None
    queue: str
    created_at: datetime
    expires_at: datetime
    attempts: int
    max_attempts: int
    state: str
    last_attempt_at: datetime | None
    used_at: datetime | None = None
    #: The call that reached the customer, once they answered (its record's call id).
    call_id: str | None = None


@dataclass(frozen=True)
class ResumeResult:
    outcome: str  # ok | wrong | used | expired | locked
    callback: Callback | None
    entry: Entry | None
