"""A hand-built ``Report`` with known figures, for the views of a report (``ivr report``,
``ivr graph --stats``, the reports page): they are tested on it, apart from the SQL that
computes a real one. Its hours fall inside whatever period it is given."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from ivr.services.insight import (
    BranchFigures,
    HourFigures,
    NodeFigures,
    Period,
    QueueFigures,
    Report,
    SurveyFigures,
    TransferFigures,
)

#: A branch name with markup in it: every view must show it as text.
HOSTILE = "<script>alert(1)</script>"


def sample_report(period: Period, complaints: bool = True) -> Report:
    zone = ZoneInfo(period.tz)

    def hour(offset: int, calls: int, offered: int, within: int) -> HourFigures:
        start = (period.start + timedelta(hours=offset)).astimezone(zone)
        return HourFigures(start, calls, offered, within)

    return Report(
        period=period,
        calls=120,
        in_progress=3,
        nodes=(
            NodeFigures("choose_language", "language", 120, 6, 4, 2, 0),
            NodeFigures("welcome", "say", 114, 2, 0, 0, 0),
            NodeFigures("main_menu", "menu", 112, 25, 9, 7, 3),
            NodeFigures("payment_intro", "say", 40, 1, 0, 0, 0),
            NodeFigures("ask_account", "gather", 60, 4, 5, 1, 0),
            NodeFigures("payments_agent", "queue", 30, 8, 0, 0, 30),
            NodeFigures("old_node", "gone", 2, 2, 0, 0, 0),
            NodeFigures("security_intro", "say", 0, 0, 0, 0, 0),
        ),
        branches=(
            BranchFigures("payment_failure", 40, 22, 18, 5, 35, 4, 1),
            BranchFigures(None, 31, 31, 0, 0, 0, 0, 0),
            BranchFigures(HOSTILE, 1, 0, 1, 0, 0, 0, 0),
        ),
        transfers=(
            TransferFigures("payment_failure", "payment_followup", "chose", 15),
            TransferFigures("payment_failure", "ask_pin", "failed", 3),
        ),
        queues=(
            QueueFigures("payments", 30, 24, 6, 41.5, 20, 18, 14.25, 312.0, 4, 3, 1),
            QueueFigures("security", 0, 0, 0, None, 10, 0, None, None, 0, 0, 0),
        ),
        hours=(hour(9, 70, 20, 12), hour(10, 50, 10, 6)),
        surveys=(
            SurveyFigures("all", "", 44, 4.2, 5),
            SurveyFigures("queue", "payments", 20, 3.9, 2),
        ),
        complaints={"opened": 7, "open": 5, "overdue": 2} if complaints else {},
    )
