"""The funnel's rows: one per node of an ended call's path (``CallNodeVisitRow``),
written whole whenever the call's record is closed (by its call, by a replay from the
spool, or by the reaper as ``interrupted``), so a record saved twice is counted once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert
from sqlalchemy.orm import Session

from ivr.services.call_record_ports import INTERRUPTED
from ivr.store.call_tables import CallNodeVisitRow

#: Outcomes of a call whose caller hung up in the flow (at its last node).
HUNG_UP = frozenset({"abandoned", INTERRUPTED})


def visit_rows(
    call_id: str,
    started_at: datetime,
    path: Sequence[str],
    last_node: str,
    outcome: str | None,
    timeouts: Mapping[str, int] | None,
    invalid: Mapping[str, int] | None,
    handoff_node: str | None,
) -> list[dict[str, Any]]:
    """The rows of one ended call, in the order its path first reached each node."""
    entered = Counter(path)
    for extra in (last_node, handoff_node):
        if extra and extra not in entered:
            entered[extra] = 1  # a path cut short by an old record: still counted
    timeouts, invalid = timeouts or {}, invalid or {}
    return [
        {
            "call_id": call_id,
            "started_at": started_at,
            "node": node,
            "entered": count,
            "timeouts": int(timeouts.get(node, 0)),
            "invalid": int(invalid.get(node, 0)),
            "hung_up": int(node == last_node and outcome in HUNG_UP),
            "to_person": int(node == handoff_node),
        }
        for node, count in entered.items()
    ]


#: Built once: every write of an open call record runs it (``replace_visits``).
_VISITS = cast(Table, CallNodeVisitRow.__table__)
_FORGET = delete(_VISITS).where(_VISITS.c.call_id == bindparam("call"))


def replace_visits(session: Session, call_id: str, rows: list[dict[str, Any]]) -> None:
    """The call's node rows become ``rows`` (none: the call is not over after all)."""
    session.execute(_FORGET, {"call": call_id})
    if rows:
        session.execute(insert(CallNodeVisitRow), rows)
