"""A caller's complaints: one opened (a category, an optional recorded message, the
deadlines of the flow's standard, a reference read back and sent by SMS) and the status of
the newest one not yet resolved. Each is ``(standard, uow, args, now) -> Result`` in one
unit of work: the complaint, its first event, its audit row and its SMS commit together
or not at all.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ivr.flow.complaints import CATEGORY_VAR, ComplaintStandard
from ivr.flow.events import Result
from ivr.services import ports, wording
from ivr.services.caller_numbers import e164
from ivr.services.complaint_ports import ComplaintEvent, NewComplaint
from ivr.services.verification import verified

#: The call data holding a recorded message's id (a ``record`` node's ``save_as``).
RECORDING_VAR = "complaint_recording"
MAX_RECORDING_ID = 255
MAX_CALLER = 64
REFERENCE_DIGITS = 8
REFERENCE_TRIES = 5

#: The text message that gives a new complaint's reference, by language.
COMPLAINT_SMS = {
    "en": "Your wallet complaint reference is {reference}. We will acknowledge it by "
    "{acknowledge} and resolve it by {resolve}.",
    "zh": "您的钱包投诉编号是{reference}。我们将于{acknowledge}前受理，并于{resolve}前处理完毕。",
}


def open_complaint(
    standard: ComplaintStandard, uow: ports.UnitOfWork, args: Mapping[str, str], now: datetime
) -> Result:
    """Open a complaint for the verified caller; ``opened`` (its reference sent by SMS)
    or ``opened_no_phone`` (no phone on the account to send it to)."""
    account = verified(uow, args)
    category = args.get(CATEGORY_VAR, "")
    if category not in standard.categories:
        raise ValueError(f"{CATEGORY_VAR} {category!r} is not a category of the standard")
    recording = args.get(RECORDING_VAR) or None
    if recording is not None and len(recording) > MAX_RECORDING_ID:
        raise ValueError(f"a recording id is at most {MAX_RECORDING_ID} characters")
    complaint = NewComplaint(
        reference=_new_reference(uow),
        account_number=account.number,
        caller=_caller(args.get("ani", "")),
        category=category,
        call_id=args.get("call_id", ""),
        recording_id=recording,
        created_at=now,
        acknowledge_by=now + timedelta(seconds=standard.acknowledge_within),
        resolve_by=now + timedelta(seconds=standard.resolve_within),
    )
    complaint_id = uow.complaints.add(complaint)
    uow.complaints.record(ComplaintEvent(complaint_id, now, "ivr", "opened", category))
    detail = {"reference": complaint.reference, "category": category}
    uow.audit.record(now, complaint.call_id, account.number, "complaint_opened", detail)
    lang = args.get("language") or account.language
    zone = ZoneInfo(standard.timezone)
    if account.phone:
        template = COMPLAINT_SMS.get(lang, COMPLAINT_SMS["en"])
        body = template.format(
            reference=complaint.reference,
            acknowledge=wording.day(complaint.acknowledge_by.astimezone(zone), lang),
            resolve=wording.day(complaint.resolve_by.astimezone(zone), lang),
        )
        uow.requests.send_sms(account.phone, body, now)
    uow.commit()
    data = {
        "complaint_reference": complaint.reference,
        "resolve_date": wording.day(complaint.resolve_by.astimezone(zone), lang),
    }
    return Result("opened" if account.phone else "opened_no_phone", data)


def complaint_status(
    standard: ComplaintStandard, uow: ports.UnitOfWork, args: Mapping[str, str], now: datetime
) -> Result:
    """The newest complaint of the verified caller not yet resolved: its state as the
    outcome (``open``, ``acknowledged``), or ``none``."""
    account = verified(uow, args)
    complaint = uow.complaints.newest_unresolved(account.number)
    uow.audit.record(now, args.get("call_id", ""), account.number, "complaint_status_heard", {})
    uow.commit()
    if complaint is None:
        return Result("none")
    lang = args.get("language") or account.language
    zone = ZoneInfo(standard.timezone)
    return Result(
        complaint.state,
        {
            "complaint_reference": complaint.reference,
            "acknowledge_date": wording.day(complaint.acknowledge_by.astimezone(zone), lang),
            "resolve_date": wording.day(complaint.resolve_by.astimezone(zone), lang),
        },
    )


def _caller(ani: str) -> str:
    """The number a supervisor can call back: E.164 when the caller id holds one, else the
    caller id as sent (bounded)."""
    return e164(ani) or ani[:MAX_CALLER]


def _new_reference(uow: ports.UnitOfWork) -> str:
    """Random digits a caller can read back or key in; one taken is drawn again (a
    unique constraint stands behind the check)."""
    for _ in range(REFERENCE_TRIES):
        reference = f"{secrets.randbelow(10**REFERENCE_DIGITS):0{REFERENCE_DIGITS}d}"
        if not uow.complaints.reference_taken(reference):
            return reference
    raise RuntimeError("no free complaint reference")
