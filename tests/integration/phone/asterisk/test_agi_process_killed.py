"""``kill -9`` of the per-call AGI script (``agi_scripts/hotline.agi``, one process per
call, as Asterisk runs it) on a real database, SQLite and PostgreSQL: nothing it held is
stranded. The script runs as a real process driven by the scripted Asterisk of
``tests/agi_fake.py``, which kills it (SIGKILL: no goodbye, no hang-up handling) while it
waits for the reply to a chosen command. Then the test process, a hotline on the same
database with its clock moved past the leases, runs a dispatcher round (the reaper, then
the call records' upkeep), as any ``ivr serve`` or ``ivr fastagi`` process would.

- Killed while holding a caller in the general queue: the entry is ``abandoned``, its
  wait counted until its lease ran out; no agent rings for it; the call's record is
  closed ``interrupted`` at the queue node with its queue; the next caller is first in
  line (no ghost ahead).
- Killed in the menus: the record is closed ``interrupted`` at the last node reached.

The script's lease is short (``IVR_QUEUE_LEASE_SECONDS``); the test's clock is stopped
and moved by hand, so nothing here depends on how fast the machine is.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from agi_fake import FakeAsterisk, environment
from start_date import clock_environment

from integration.support import LI_WEI, ROOT, Db, StoppedClock, sign_in_busy
from ivr.app.bootstrap import Components
from ivr.app.dispatcher import Dispatcher
from ivr.center import lifecycle as lc
from ivr.phone.asterisk.call_files import CallbackSettings
from ivr.phone.asterisk.channel import CallFileDialer
from ivr.services.call_record_reaper import RecordUpkeep

SCRIPT = ROOT / "agi_scripts" / "hotline.agi"
#: The AGI processes' queue lease (IVR_QUEUE_LEASE_SECONDS), and the record lease of the
#: test's own upkeep (what IVR_RECORD_LEASE sets in a server), in seconds.
LEASE = 5
RECORD_LEASE = 1
HOLD = "STREAM FILE moh/"
MAIN_MENU = "STREAM FILE en/main_menu"
#: English; 0 (a person) typed during the welcome; then the caller stays silent: ``t``
#: lets every prompt play to its end and is only used up by a wait for a key, which a
#: hold without a callback dialogue never has. So the caller stays on hold.
TO_THE_QUEUE_AND_STAY = "1 0 t"
#: English, 0 for a person; the keys run out: the caller hangs up at the callback offer.
TO_THE_QUEUE = "1 0"


class KillingAsterisk(FakeAsterisk):
    """The scripted Asterisk; when the script sends its ``times``-th command starting with
    ``at``, it kills the script (SIGKILL) before replying, and waits until it is gone."""

    def __init__(self, keys: str, at: str, times: int = 1, **kwargs: Any) -> None:
        super().__init__(keys, **kwargs)
        self.at, self.times, self.seen = at, times, 0
        self.process: subprocess.Popen[str] | None = None
        self.killed = False

    def reply(self, command: str) -> list[str]:
        lines = super().reply(command)
        if self.process is not None and command.startswith(self.at):
            self.seen += 1
            if self.seen == self.times:
                os.kill(self.process.pid, signal.SIGKILL)  # kill -9
                self.process.wait(timeout=30)
                self.killed = True
        return lines


@contextmanager
def hotline_agi(
    url: str, call_id: str, clock: StoppedClock, folder: Path
) -> Iterator[subprocess.Popen[str]]:
    """``hotline.agi`` started as Asterisk starts it, on ``url``, its clock starting at
    ``clock``'s reading; killed (if still there) and its pipes closed at the end."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IVR_")},
        "IVR_DATABASE_URL": url,  # IVR_FLOW unset: the project's callflows.yaml
        "IVR_FASTAGI_PORT": "off",  # in-process, whatever listens on 4573
        "IVR_QUEUE_LEASE_SECONDS": str(LEASE),
        "IVR_SPOOL_DIR": str(folder / "spool"),
        "IVR_LOG_LEVEL": "WARNING",
        **clock_environment(clock),
    }
    with (folder / f"{call_id}.stderr").open("w", encoding="utf-8") as errors:
        process = subprocess.Popen(
            [str(SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
            text=True, cwd=folder, env=env,
        )  # fmt: skip
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    try:
        yield process
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        for stream in (process.stdin, process.stdout):
            if stream and not stream.closed:
                try:
                    stream.close()
                except BrokenPipeError:
                    pass  # a reply left in the buffer of a killed script's stdin


def agi_environment(call_id: str) -> list[str]:
    """The captured environment for ``AGI(hotline.agi)`` without arguments, as the
    dialplan runs it (a first argument names a script)."""
    captured = environment(agi_uniqueid=call_id)
    return [line for line in captured if not line.startswith("agi_arg_")]


def utc(value: datetime) -> datetime:
    """A time read with plain SQL (naive on SQLite, which stores UTC) as an aware one."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def stderr_of(folder: Path, call_id: str) -> str:
    return (folder / f"{call_id}.stderr").read_text(encoding="utf-8")


def kill_while(
    url: str, call_id: str, fake: KillingAsterisk, clock: StoppedClock, folder: Path
) -> int:
    """Run ``hotline.agi`` for one call until ``fake`` kills it; the process id it had."""
    with hotline_agi(url, call_id, clock, folder) as process:
        fake.process = process
        fake.talk_to(process)  # returns when the killed script's stdout closes
        assert fake.killed, (fake.commands[-5:], stderr_of(folder, call_id))
        assert process.returncode == -signal.SIGKILL
        return process.pid


def dispatcher_round(hotline: Components) -> Dispatcher:
    """One dispatcher of the test's process: every round reaps and closes records."""
    upkeep = RecordUpkeep(hotline.recorder, hotline.clock, timedelta(seconds=RECORD_LEASE), every=0)
    dialer = CallFileDialer(CallbackSettings.from_env({}))
    return Dispatcher(
        lambda: hotline.contact_center, dialer, reap_interval=0, records=upkeep,
    )  # fmt: skip


def test_a_caller_held_by_a_killed_agi_script_is_no_ghost_in_the_queue(
    hotline: Components, seeded_url: str, db: Db, clock: StoppedClock, tmp_path: Path
) -> None:
    sign_in_busy(db)  # someone signed in, busy: the caller is held, not offered a callback
    ghost = KillingAsterisk(
        TO_THE_QUEUE_AND_STAY, HOLD, times=3, hangup="process", env=agi_environment("ghost.1")
    )

    pid = kill_while(seeded_url, "ghost.1", ghost, clock, tmp_path)

    assert 'SET VARIABLE IVR_OUTCOME "queued"' in ghost.commands
    assert len(ghost.sent(HOLD)) == 3 and "HANGUP" not in ghost.commands
    entry = db.one("queue_entries", call_id="ghost.1")
    assert (entry["state"], entry["queue"]) == (lc.WAITING, "general")  # nobody ended it
    assert entry["held_by"].endswith(f":{pid}")  # the script's own lease
    record = db.one("call_records", call_id="ghost.1")
    assert (record["outcome"], record["last_node"]) == (None, "agent")  # open on hold
    lease_until, last_seen = utc(entry["lease_until"]), utc(record["last_seen_at"])

    rounds = dispatcher_round(hotline)
    clock.current = lease_until - timedelta(seconds=1)  # the lease still holds ...
    assert last_seen < clock.current - timedelta(seconds=RECORD_LEASE)
    rounds.run_once()  # ... so the record, though not written for a while, stays open
    assert db.one("queue_entries", id=entry["id"])["state"] == lc.WAITING
    assert db.one("call_records", call_id="ghost.1")["outcome"] is None

    clock.advance(seconds=2)  # past the lease
    rounds.run_once()

    entry = db.one("queue_entries", id=entry["id"])
    assert entry["state"] == lc.ABANDONED
    assert utc(entry["ended_at"]) == lease_until  # when its lease ran out, not when noticed
    waited = int((lease_until - utc(entry["enqueued_at"])).total_seconds())
    assert entry["wait_seconds"] == waited and entry["lease_until"] is None
    [reaped] = db.rows("audit_log", action="queue_lease_expired")
    assert reaped["detail"]["entry"] == entry["id"] and reaped["detail"]["held_by"].endswith(
        f":{pid}"
    )
    assert not db.rows("agents", state=lc.RINGING)  # nobody's phone rings for the ghost
    assert db.one("agents", username="sam")["state"] == "on_call"
    record = db.one("call_records", call_id="ghost.1")
    assert (record["outcome"], record["last_node"], record["queue"]) == (
        "interrupted", "agent", "general",
    )  # fmt: skip
    assert record["ended_at"] == record["last_seen_at"]
    assert "main_menu" in record["path"] and record["path"][-1] == "agent"

    # The next caller, after the rounds: first in line, no ghost ahead.
    after = FakeAsterisk(TO_THE_QUEUE, hangup="process", env=agi_environment("after.1"))
    with hotline_agi(seeded_url, "after.1", clock, tmp_path) as process:
        after.on_sighup = lambda: process.send_signal(signal.SIGHUP)
        after.talk_to(process)
        assert process.wait(timeout=60) == 0, stderr_of(tmp_path, "after.1")
    queued = after.commands.index('SET VARIABLE IVR_OUTCOME "queued"')
    assert after.commands[queued + 1 : queued + 3] == [
        'STREAM FILE en/queue_position.1 ""',
        'SAY NUMBER 1 ""',
    ]
    second = db.one("queue_entries", call_id="after.1")
    assert second["state"] == lc.ABANDONED  # by its own hang-up, not the reaper
    assert db.count("audit_log", action="queue_lease_expired") == 1
    closed = db.one("call_records", call_id="after.1")  # closed by its own process
    assert (closed["outcome"], closed["last_node"]) == ("queued", "agent")
    assert closed["ended_at"] is not None


@pytest.mark.parametrize(
    ("keys", "at", "node"),
    [
        ("1 ~", MAIN_MENU, "main_menu"),  # listens to the welcome; killed at the main menu
        # password reset, the account number and #: killed as the PIN is asked for
        (f"1 ~1 ~{LI_WEI[0]}#", "STREAM FILE en/enter_pin", "ask_pin"),
    ],
    ids=["main_menu", "ask_pin"],
)
def test_a_caller_in_the_menus_of_a_killed_agi_script_is_recorded_interrupted(
    hotline: Components,
    seeded_url: str,
    db: Db,
    clock: StoppedClock,
    tmp_path: Path,
    keys: str,
    at: str,
    node: str,
) -> None:
    fake = KillingAsterisk(keys, at, hangup="process", env=agi_environment("menus.1"))

    kill_while(seeded_url, "menus.1", fake, clock, tmp_path)

    record = db.one("call_records", call_id="menus.1")
    assert (record["outcome"], record["ended_at"], record["last_node"]) == (None, None, node)
    assert db.count("queue_entries") == 0 and db.count("verification_attempts") == 0

    rounds = dispatcher_round(hotline)
    clock.current = utc(record["last_seen_at"])
    rounds.run_once()  # not yet: the call may still be alive
    assert db.one("call_records", call_id="menus.1")["outcome"] is None
    clock.advance(seconds=RECORD_LEASE + 1)
    rounds.run_once()

    record = db.one("call_records", call_id="menus.1")
    assert (record["outcome"], record["last_node"], record["channel"]) == (
        "interrupted", node, "agi",
    )  # fmt: skip
    assert record["path"][-1] == node and record["ended_at"] == record["last_seen_at"]
    assert record["queue"] is None
