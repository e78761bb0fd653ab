"""Helpers the integration tests share: a stopped clock, a window onto a test database,
and ``ivr call --json`` run in-process."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, select, text
from start_date import CLOSED, OPEN, OPEN_UTC, clock_environment

from ivr.app import cli
from ivr.services import ports
from ivr.store.db import connect

ROOT = Path(__file__).resolve().parents[2]
FLOW_PATH = ROOT / "callflows.yaml"

# The chosen start (tests/start_date.py): OPEN, a Monday at 10:00 in Beijing (the agents are
# in); CLOSED, the same day at 22:30 (callbacks only); OPEN_UTC, OPEN for clocks.
__all__ = ["CLOSED", "OPEN", "OPEN_UTC", "clock_environment"]

#: The demo accounts the tests use: (number, PIN, phone). See ``ivr.services.demo``.
LI_WEI = ("10000001", "246810", "+8613800138001")  # zh, 1250.00 CNY, insufficient funds
EMMA = ("10000002", "135790", "+14155550102")  # en, 0 USD, risk-control hold
ZHANG_MIN = ("10000003", "112233", "+8613900139003")  # zh, 0 CNY, no failed payment
CHEN_JIE = ("10000004", "445566", "+8613700137004")  # zh, already frozen
OMAR = ("10000005", "778899", "+447700900105")  # en, 3200.00 USD, expired card
UNKNOWN_CALLER = "+15550000000"

TABLES = frozenset(
    {
        "accounts",
        "transactions",
        "verification_attempts",
        "password_resets",
        "closure_requests",
        "security_incidents",
        "sms_outbox",
        "call_records",
        "call_node_visits",
        "audit_log",
        "agents",
        "queue_entries",
        "callbacks",
        "agent_notes",
        "callback_code_attempts",
        "twilio_calls",
        "agent_login_attempts",
        "web_sessions",
        "survey_answers",
        "recordings",
        "complaints",
        "complaint_events",
    }
)

Summary = dict[str, Any]
Row = dict[str, Any]


class StoppedClock(ports.Clock):
    """A clock that moves only when a test moves it."""

    def __init__(self, now: datetime = OPEN_UTC) -> None:
        assert now.tzinfo is not None
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class Db:
    """Plain SQL on a test database, to look at what the product wrote."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = connect(url)

    def rows(self, table: str, order_by: str = "id", **where: Any) -> list[Row]:
        meta = MetaData()
        meta.reflect(self.engine, only=[table])
        t = meta.tables[table]
        query = select(t).where(*(t.c[k] == v for k, v in where.items()))
        if order_by in t.c:
            query = query.order_by(t.c[order_by])
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def one(self, table: str, **where: Any) -> Row:
        found = self.rows(table, **where)
        assert len(found) == 1, f"{table} where {where}: {len(found)} rows: {found}"
        return found[0]

    def count(self, table: str, **where: Any) -> int:
        return len(self.rows(table, **where))

    def execute(self, sql: str, **params: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(sql), params)

    def dump(self) -> str:
        """Every row of every table (alembic_version too) as text."""
        meta = MetaData()
        meta.reflect(self.engine)
        lines = []
        with self.engine.connect() as conn:
            for name, table in sorted(meta.tables.items()):
                for row in conn.execute(select(table)):
                    lines.append(f"{name}: {tuple(row)!r} {json.dumps(list(row), default=str)}")
        return "\n".join(lines)

    def close(self) -> None:
        self.engine.dispose()


def sign_in_busy(db: Db, username: str = "sam") -> None:
    """Someone who could take the call is signed in but busy (on a call): callers are held
    in line. With nobody signed in, the queue's policy offers a callback at once instead."""
    db.execute("UPDATE agents SET state = 'on_call' WHERE username = :name", name=username)


def ivr_call(
    capsys: pytest.CaptureFixture[str],
    keys: str,
    *,
    ani: str = "",
    at: str = OPEN,
    lang: str | None = None,
) -> tuple[Summary, str]:
    """Run ``ivr call --keys KEYS --json`` in-process; return the summary and its raw text."""
    argv = ["call", "--keys", keys, "--ani", ani, "--json", "--at", at]
    if lang:
        argv += ["--lang", lang]
    code = cli.main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary: Summary = json.loads(captured.out)
    return summary, captured.out


def heard(events: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Every prompt played (or asked with) in these transcript events, in order."""
    return [p for entry in events for p in entry.get("play", []) + entry.get("prompts", [])]


def said(summary: Summary) -> list[str]:
    """Every prompt id the caller heard, in order."""
    return [prompt["id"] for prompt in heard(summary["events"])]


def texts(summary: Summary) -> str:
    return "\n".join(prompt["text"] for prompt in heard(summary["events"]))


def use_case(summary: Summary, name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [u for u in summary["use_cases"] if u["use_case"] == name]
    assert found, f"{name} did not run: {summary['use_cases']}"
    return found[-1]


def outcomes(summary: Summary, name: str) -> list[str]:
    return [u["outcome"] for u in summary["use_cases"] if u["use_case"] == name]


def enqueued(summary: Summary) -> dict[str, Any]:
    entries: list[dict[str, Any]] = [e["enqueue"] for e in summary["events"] if "enqueue" in e]
    [entry] = entries
    return entry


def assert_recorded(db: Db, summary: Summary) -> Row:
    """The call left exactly one call_records row, and it says what the transcript says."""
    row = db.one("call_records", call_id=summary["call_id"])
    queue = enqueued(summary)["queue"] if any("enqueue" in e for e in summary["events"]) else None
    assert {
        "channel": row["channel"],
        "caller_id": row["caller_id"],
        "language": row["language"],
        "reason": row["reason"],
        "account_number": row["account_number"],
        "path": row["path"],
        "last_node": row["last_node"],
        "outcome": row["outcome"],
        "queue": row["queue"],
    } == {
        "channel": "console",
        "caller_id": summary["ani"],
        "language": summary["language"],
        "reason": summary["reason"],
        "account_number": summary["verified_account"],
        "path": summary["nodes"],
        "last_node": summary["ended_at_node"],
        "outcome": summary["outcome"],
        "queue": queue,
    }
    assert row["started_at"] <= row["ended_at"]
    return row


def utc_offset_zero(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() == timedelta(0)
