"""What the end-to-end tests read back: Asterisk's own log since a mark, and the sandbox's
database."""

from __future__ import annotations

import re
import time
import wave
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from ivr.app.asterisk_sandbox import Sandbox


class LogWatch:
    """Asterisk's log from the moment the watch was made (one call at a time)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.mark = len(sandbox.log_text())

    def text(self) -> str:
        return self.sandbox.log_text()[self.mark :]

    def wait_for(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        """The first match of ``pattern`` (a regular expression) in the new log lines."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.text())
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"Asterisk's log has no {pattern!r} after {timeout:.0f}s; it says:\n"
                    + self.tail()
                )
            time.sleep(0.1)

    def executed(self, application: str, argument: str) -> bool:
        """The dialplan ran ``application`` with exactly ``argument``."""
        return (
            re.search(
                rf'\] {application}\("PJSIP/caller-\w+", "{re.escape(argument)}"\)', self.text()
            )
            is not None
        )

    def tail(self, lines: int = 40) -> str:
        kept = [line for line in self.text().splitlines() if "[C-" in line or "WARNING" in line]
        return "\n".join(kept[-lines:])


def call_records(sandbox: Sandbox, channel: str | None = None) -> list[dict[str, Any]]:
    """Rows of ``call_records`` in the sandbox's database, oldest first."""
    engine = create_engine(sandbox.settings.database_url, poolclass=NullPool)
    query = "SELECT * FROM call_records ORDER BY id"
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(text(query))]
    engine.dispose()
    return [row for row in rows if channel is None or row["channel"] == channel]


def wait_for_record(
    sandbox: Sandbox, known: int, channel: str, timeout: float = 10
) -> dict[str, Any]:
    """The first ``channel`` call record after the ``known`` ones already there, once it
    is closed (a record is open from the call's first second)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = call_records(sandbox, channel)
        if len(rows) > known and rows[known]["outcome"] is not None:
            return rows[known]
        time.sleep(0.2)
    raise AssertionError(f"no new {channel} call record after {timeout:.0f}s")


def seconds(wav: Path) -> float:
    """How long a rendered prompt plays."""
    with wave.open(str(wav)) as audio:
        frames: int = audio.getnframes()
        rate: int = audio.getframerate()
    return frames / rate


def sign_in_busy(sandbox: Sandbox, username: str = "sam") -> None:
    """Someone who could take the calls (sam has every skill and language) is signed in but
    busy, on a call: callers are held in line. With nobody signed in, the queue's policy
    says so and offers a callback at once instead."""
    engine = create_engine(sandbox.settings.database_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            query = text("UPDATE agents SET state = 'on_call' WHERE username = :name")
            connection.execute(query, {"name": username})
    finally:
        engine.dispose()
