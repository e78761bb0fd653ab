"""The suite's one chosen date, and every "now" the tests derive from it.

``IVR_TEST_START`` (YYYY-MM-DD) chooses the date; unset, it is today: ``chosen_start`` is
the one place the tests read the wall clock. The tests' calls happen on the first Monday
on or after that date that every ``hours`` node of callflows.yaml keeps open at 10:00 in
Beijing (a listed holiday moves it a week on): ``OPEN_TIME`` then, ``CLOSED_TIME`` the same
evening at 22:30, after the agents have gone home.

Every clock the tests make starts there: ``FixedClock`` / ``StoppedClock`` fixtures,
``ivr call --at OPEN``, and each process they start (``clock_environment``).
``make test-dates`` runs the suite again with a date years ahead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.app.bootstrap import load_hotline
from ivr.flow.hours import route
from ivr.flow.nodes import Hours
from ivr.services.ports import Clock

START_ENV = "IVR_TEST_START"
CLOCK_ENV = "IVR_CLOCK_START"
FLOW_PATH = Path(__file__).resolve().parent.parent / "callflows.yaml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
OPENING, CLOSING = time(10, 0), time(22, 30)


def chosen_start(env: Mapping[str, str] = os.environ) -> date:
    """``IVR_TEST_START``, else today's date."""
    raw = env.get(START_ENV, "").strip()
    if not raw:
        return date.today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        message = f"{START_ENV} must be a date like 2030-12-02, not {raw!r}"
        raise pytest.UsageError(message) from None


def working_monday(start: date, hours: list[Hours]) -> date:
    """The first Monday on or after ``start`` when every ``hours`` node is open at 10:00
    and closed at 22:30 (Beijing): a Monday that is a listed holiday is skipped."""
    day = start + timedelta(days=-start.weekday() % 7)
    for _ in range(53):
        morning = datetime.combine(day, OPENING, SHANGHAI).timestamp()
        evening = datetime.combine(day, CLOSING, SHANGHAI).timestamp()
        if all(
            route(node, morning) == node.on_open and route(node, evening) == node.on_closed
            for node in hours
        ):
            return day
        day += timedelta(days=7)
    raise pytest.UsageError(f"callflows.yaml has no working Monday in the year from {start}")


def hours_nodes() -> list[Hours]:
    """The flow's opening-hours nodes."""
    return [node for node in load_hotline(FLOW_PATH).nodes.values() if isinstance(node, Hours)]


START_DATE = chosen_start()
OPEN_DAY = working_monday(START_DATE, hours_nodes())
#: A Monday at 10:00 in Beijing: the agents are in.
OPEN_TIME = datetime.combine(OPEN_DAY, OPENING, SHANGHAI)
#: The same Monday at 22:30 in Beijing: the agents have gone home (callbacks only).
CLOSED_TIME = datetime.combine(OPEN_DAY, CLOSING, SHANGHAI)
#: OPEN_TIME in UTC, for clocks.
OPEN_UTC = OPEN_TIME.astimezone(UTC)
#: The same times as ``ivr call --at`` and ``IVR_CLOCK_START`` take them.
OPEN = OPEN_TIME.isoformat(timespec="minutes")
CLOSED = CLOSED_TIME.isoformat(timespec="minutes")


def clock_environment(clock: Clock) -> dict[str, str]:
    """For a process a test starts: its clock begins at ``clock``'s current reading."""
    return {CLOCK_ENV: clock.now().isoformat()}
