"""The hotline runs on one clock that a test (or a demo) can start at any date: ``ivr call``
started with ``IVR_CLOCK_START`` years ahead, as a program, writes its call record then, and
``ivr call --at`` moves the use cases' clock along with the call's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from start_date import OPEN_DAY, OPENING, SHANGHAI, hours_nodes, working_monday

from integration.support import LI_WEI, ROOT, Db, StoppedClock, clock_environment, ivr_call

pytestmark = pytest.mark.usefixtures("seeded_env")
#: Long enough for the call, never long enough to reach the chosen date from today.
SLACK = timedelta(minutes=5)


def years_ahead(years: int = 4) -> datetime:
    """A working Monday at 10:00 in Beijing, some years after the suite's start."""
    day = working_monday(OPEN_DAY + timedelta(days=365 * years), hours_nodes())
    return datetime.combine(day, OPENING, SHANGHAI)


def instant(value: datetime) -> datetime:
    """A stored time as an aware one (reflected SQLite columns come back naive, in UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def within_the_call(start: datetime, *values: datetime) -> bool:
    stamps = [instant(value) for value in values]
    return stamps == sorted(stamps) and start <= stamps[0] and stamps[-1] < start + SLACK


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_ivr_call_as_a_program_runs_on_ivr_clock_start(db: Db, seeded_url: str) -> None:
    start = years_ahead()
    number, pin, phone = LI_WEI
    done = subprocess.run(
        [sys.executable, "-m", "ivr.app.cli", "call", "--keys", f"1 2 {number}# {pin} 0",
         "--ani", phone, "--json"],
        env=os.environ | {"IVR_DATABASE_URL": seeded_url} | clock_environment(StoppedClock(start)),
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["ended_at_node"] == "payments_agent"  # a Monday at 10:00: agents are in
    record = db.one("call_records", call_id=summary["call_id"])
    attempt = db.one("verification_attempts", call_id=summary["call_id"])
    assert within_the_call(start, record["started_at"], attempt["at"], record["ended_at"])


def test_ivr_call_at_starts_the_use_cases_clock_too(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    start = years_ahead(6)
    number, pin, phone = LI_WEI

    summary, _ = ivr_call(capsys, f"1 2 {number}# {pin} 0", ani=phone, at=start.isoformat())

    record = db.one("call_records", call_id=summary["call_id"])
    attempt = db.one("verification_attempts", call_id=summary["call_id"])
    assert within_the_call(start, record["started_at"], attempt["at"], record["ended_at"])
