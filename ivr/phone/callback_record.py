"""The record of a callback call: the call we placed that the customer answered.

Every call leaves one call record, ours too. The process holding the customer (the
FastAGI ``callback`` script, Twilio's answered-callback webhook) opens it as the customer
answers, with the callback's number as the caller id, and closes it when the call ends
with its outcome: ``agent`` (talked to the agent), ``abandoned`` (hung up before), or
``fallback`` (back to the dialplan's safe route after a failure). While the customer is
held or talking, the record stays open and alive (``Callback.call_id``: the record reaper
leaves it alone); a call whose process died is closed ``interrupted`` by that reaper, as
any other. The path is the one node ``callback``: a callback call runs no flow.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ivr.center import lifecycle as lc
from ivr.services import ports
from ivr.services.contact_callbacks import Callback

#: The record's only node (a callback call runs no flow).
NODE = "callback"
#: How a callback call reached a person (``CallRecord.handoff``: the reports count it).
HANDOFF = "callback"
#: Outcomes a callback call is closed with.
AGENT, ABANDONED, FALLBACK = "agent", "abandoned", "fallback"


def opened(callback: Callback, call_id: str, channel: str, now: datetime) -> ports.CallRecord:
    """The open record of ``call_id``, a call that reached ``callback``'s customer."""
    return ports.CallRecord(
        call_id=call_id,
        channel=channel,
        caller_id=callback.number,
        language=callback.language,
        reason=callback.reason,
        account_number=callback.account_number,
        path=(NODE,),
        last_node=NODE,
        outcome=None,
        queue=callback.queue,
        started_at=now,
        ended_at=None,
        seen_at=now,
        handoff_node=NODE,
        handoff=HANDOFF,
    )


def closed(record: ports.CallRecord, outcome: str, now: datetime) -> ports.CallRecord:
    """``record`` closed with ``outcome`` at ``now``."""
    if outcome not in (AGENT, ABANDONED, FALLBACK):
        raise ValueError(f"a callback call ends agent, abandoned or fallback, not {outcome!r}")
    return replace(record, outcome=outcome, ended_at=now, seen_at=now)


def outcome_of(entry_state: str) -> str:
    """The outcome of a callback call from its entry's state once the call is over:
    ``done`` was a talk, an entry still held or abandoned was left before one."""
    if entry_state in (lc.DONE, lc.CONNECTED):
        return AGENT
    return ABANDONED
