"""The ``resume_callback`` use case: a caller who phones back types the reference code a
callback gave them and takes back their place in line, with their context.

The outcome names the queue to go back to (``resumed_<queue>``) or the refusal (``wrong``,
``used``, ``expired``, ``locked``); ``callflows.yaml`` routes each. The call data gets the
callback's reason and verified account (the callback was asked for in a verified call),
and ``resume_entry``, the queue entry whose place the caller takes over.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ivr.flow.events import Result
from ivr.flow.model import ERROR_OUTCOME
from ivr.services.registry import RESUMABLE_QUEUES, RESUME_REFUSALS
from ivr.services.usecases import ServiceHandler

if TYPE_CHECKING:
    from ivr.services.contact_center import ContactCenter

CODE_FIELD = "resume_code"  # the secure gather's save_as in callflows.yaml


def resume_use_case(center: ContactCenter) -> ServiceHandler:
    def resume_callback(args: Mapping[str, str]) -> Result:
        found = center.resume(
            args.get(CODE_FIELD, ""), args.get("ani", ""), args.get("call_id", "")
        )
        if found.outcome in RESUME_REFUSALS:
            return Result(found.outcome)
        entry = found.entry
        if found.outcome != "ok" or entry is None or entry.queue not in RESUMABLE_QUEUES:
            return Result(ERROR_OUTCOME)
        data = {"resume_entry": str(entry.id), "reason": entry.reason or ""}
        if entry.account_number:
            data |= {"verified": "yes", "verified_account": entry.account_number}
        return Result(f"resumed_{entry.queue}", data)

    return resume_callback
