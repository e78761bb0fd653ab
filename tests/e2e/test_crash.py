"""Issue 11's "Done when": the controller dies with callers in the menus and on hold.

A sandbox of its own (short leases; no agent phone can answer) takes 20 SIPp callers: ten
stay in the menus, ten go on hold in the general queue (sam, who could take them, is
signed in but busy). Then ``kill -9`` of the FastAGI server. Every caller hears the
dialplan's safe route and none is left in silence: those in the menus the apology, then
the general queue; those on hold go on waiting in app_queue (``IVR_OUTCOME=queued``). The
sandbox starts the controller again (one line logged); the lease reaper ends the dead
controller's queue entries as abandoned and the record reaper closes its unfinished
calls as ``interrupted``; an agent who goes available is offered no ghost; a new caller
is served, and is first in line.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from ivr.app.asterisk_sandbox import Sandbox
from ivr.phone.asterisk import children

from . import sipp
from .conftest import start_sandbox, unavailable
from .phones import agent, contact_center
from .sipp import Press
from .support import LogWatch, call_records, sign_in_busy

pytestmark = pytest.mark.asterisk

MENUS, HOLDS = 10, 10
#: Queue entry and call record leases in this sandbox (seconds; 30 and 60 by default).
LEASE = 10
ENVIRONMENT = {
    "IVR_QUEUE_LEASE_SECONDS": str(LEASE),
    "IVR_RECORD_LEASE": str(LEASE),
    "IVR_CALLBACK_OFFER_AFTER": "86400",  # straight to the hold music: no callback offer
    "IVR_LOG_LEVEL": "INFO",
}
#: English, then 0 (an agent) typed ahead during the welcome: the general queue.
TO_THE_QUEUE = [Press(2.0, "1"), Press(1.5, "0")]
#: English, then the welcome and the main menu (15 s, a 6 s timeout, three times).
IN_THE_MENUS = [Press(2.0, "1")]
#: Callers hold on until the test hangs up.
HOLD = 240
HOLDING = [f"55501{n:02d}" for n in range(HOLDS)]
IN_MENUS = [f"55502{n:02d}" for n in range(MENUS)]
NEW_CALLER = "5550300"
CHANNEL = re.compile(
    r'NoOp\("(PJSIP/caller-[0-9a-f]+)", "Wallet hotline call from "[^"]*" <(\d+)>"\)'
)


@pytest.fixture(scope="module")
def crash_sandbox(
    tmp_path_factory: pytest.TempPathFactory, prompt_audio: str | None
) -> Iterator[Sandbox]:
    if prompt_audio:
        unavailable(f"the hotline would be silent: {prompt_audio}")
    box = start_sandbox(tmp_path_factory.mktemp("crash"), {}, ENVIRONMENT)
    yield box
    box.stop()


def sql(sandbox: Sandbox, query: str, **values: Any) -> list[dict[str, Any]]:
    engine = create_engine(sandbox.settings.database_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(query), values)
            return [dict(row._mapping) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def eventually(condition: Callable[[], bool], what: Callable[[], str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout:.0f}s: {what()}")
        time.sleep(0.25)


def channels(log: LogWatch, callers: list[str], timeout: float = 30) -> dict[str, str]:
    """Caller id -> Asterisk channel, from the dialplan's first NoOp of each call."""
    wanted = set(callers)
    found: dict[str, str] = {}

    def all_in() -> bool:
        found.update((c, ch) for ch, c in CHANNEL.findall(log.text()) if c in wanted)
        return len(found) == len(wanted)

    eventually(all_in, lambda: f"calls never reached the dialplan: {wanted - set(found)}", timeout)
    return found


def on_hold(log: LogWatch, channel: str) -> bool:
    return f"<{channel}> Playing 'moh/hold-" in log.text()


def moh_started(log: LogWatch, channel: str) -> bool:
    return f"Started music on hold, class 'hotline', on channel '{channel}'" in log.text()


def of_callers(rows: list[dict[str, Any]], callers: list[str]) -> list[dict[str, Any]]:
    return [row for row in rows if row["caller_id"] in callers]


def test_killing_the_controller_strands_nobody(
    crash_sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    box = crash_sandbox
    caplog.set_level(logging.WARNING, logger="ivr.phone.asterisk.supervisor")
    sign_in_busy(box)  # sam could take them, but is on a call: callers wait in line
    log = LogWatch(box)
    callers: list[sipp.Caller] = []
    try:
        for n, (number, presses) in enumerate(
            [(c, TO_THE_QUEUE) for c in HOLDING] + [(c, IN_THE_MENUS) for c in IN_MENUS]
        ):
            callers.append(sipp.start(box.sip_port, presses, HOLD, tmp_path / f"c{n}", number))
            time.sleep(0.1)
        held = channels(log, HOLDING)
        in_menus = channels(log, IN_MENUS)

        # -- everyone where they should be, then the crash -----------------------------------
        eventually(
            lambda: all(on_hold(log, ch) for ch in held.values()),
            lambda: "not all on hold:\n" + log.tail(),
            60,
        )
        assert not [ch for ch in in_menus.values() if on_hold(log, ch)], log.tail()
        # Type-ahead: the 0 pressed during the welcome chose from the main menu unheard.
        assert not [ch for ch in held.values() if f"<{ch}> Playing 'en/main_menu" in log.text()]
        assert all(f"<{ch}> Playing 'en/welcome" in log.text() for ch in held.values())
        assert box.fastagi is not None
        crashed = box.fastagi.pid
        assert crashed is not None
        after = LogWatch(box)
        os.kill(crashed, signal.SIGKILL)

        # -- every caller hears the safe route -------------------------------------------------
        everyone = [*held.values(), *in_menus.values()]
        eventually(
            lambda: all(moh_started(after, ch) for ch in everyone),
            lambda: (
                "left without hold music: "
                + ", ".join(ch for ch in everyone if not moh_started(after, ch))
                + "\n"
                + after.tail()
            ),
            45,
        )
        said = after.text()
        for channel in in_menus.values():
            assert re.search(
                rf'Log\("{channel}", "WARNING,IVR safe route for {channel}: '
                r'AGISTATUS=\w+ IVR_OUTCOME="\)',
                said,
            ), after.tail()
            assert f'Playback("{channel}", "en/system_error")' in said
            assert f"<{channel}> Playing 'en/system_error.slin'" in said
            assert f'Queue("{channel}", "hotline-general")' in said
        for channel in held.values():
            assert f'NoOp("{channel}", "IVR AGISTATUS=' in said
            assert re.search(rf'NoOp\("{channel}", "IVR AGISTATUS=\w+ IVR_OUTCOME=queued"\)', said)
            assert f'Queue("{channel}", "hotline-general")' in said
        assert "Playback failed" not in said

        # -- the sandbox started the controller again, Asterisk kept running -------------------
        supervisor = box.fastagi
        eventually(
            lambda: (
                supervisor.pid != crashed
                and box.fastagi_running
                and children.listening(box.fastagi_port)
            ),
            lambda: f"the FastAGI server was not started again ({supervisor.restarts} restarts)",
            30,
        )
        assert box.stopped() == []
        restarts = [r.getMessage() for r in caplog.records if "starting it again" in r.getMessage()]
        assert len(restarts) == 1, restarts
        assert f"(pid {crashed}) exited with status -9" in restarts[0]

        box.rx("channel request hangup all")
        results = [caller.wait() for caller in callers]
    finally:
        for caller in callers:
            if caller.process.poll() is None:
                caller.process.kill()
                caller.wait()
    for result in results:
        assert result.ok and result.hung_up_by == "hotline", result.errors

    # -- no entry stays waiting, no agent ringing, every call has a record ---------------------
    def entries() -> list[dict[str, Any]]:
        return of_callers(sql(box, "SELECT * FROM queue_entries"), HOLDING)

    eventually(
        lambda: len(entries()) == HOLDS and all(e["state"] == "abandoned" for e in entries()),
        lambda: f"entries of the dead controller: {[(e['id'], e['state']) for e in entries()]}",
        LEASE + 30,
    )
    assert not sql(box, "SELECT * FROM queue_entries WHERE state IN ('waiting', 'offered')")
    assert not sql(box, "SELECT * FROM agents WHERE state = 'ringing'")

    def records() -> list[dict[str, Any]]:
        return of_callers(call_records(box), HOLDING + IN_MENUS)

    eventually(
        lambda: len(records()) == HOLDS + MENUS and all(r["outcome"] for r in records()),
        lambda: f"records: {[(r['caller_id'], r['outcome']) for r in records()]}",
        LEASE + 30,
    )
    # Those on hold were cut while waiting in the general queue: interrupted there (or, if
    # records close when the flow ends, queued); those in the menus interrupted at the node
    # each had reached (every move is written at once: the language or the main menu).
    waited = {(r["outcome"], r["last_node"], r["queue"]) for r in of_callers(records(), HOLDING)}
    assert waited <= {("interrupted", "agent", "general"), ("queued", "agent", "general")}, waited
    in_menu = {(r["outcome"], r["last_node"]) for r in of_callers(records(), IN_MENUS)}
    assert in_menu <= {("interrupted", "choose_language"), ("interrupted", "main_menu")}, in_menu

    # An agent who goes available is offered no ghost.
    center = contact_center(box)
    alice = agent(center, "alice")
    center.set_availability(alice.id, True)
    time.sleep(3)  # a few dispatcher rounds
    assert agent(center, "alice").state == "available"
    center.set_availability(alice.id, False)

    # -- a new call is served: first in line ---------------------------------------------------
    fresh = LogWatch(box)
    caller = sipp.start(box.sip_port, TO_THE_QUEUE, HOLD, tmp_path / "new", NEW_CALLER)
    try:
        channel = channels(fresh, [NEW_CALLER])[NEW_CALLER]
        fresh.wait_for(rf"<{re.escape(channel)}> Playing 'moh/hold-", timeout=45)
        box.rx(f"channel request hangup {channel}")
        result = caller.wait()
    finally:
        if caller.process.poll() is None:
            caller.process.kill()
            caller.wait()
    assert result.ok, result.errors
    heard = re.findall(rf"<{re.escape(channel)}> Playing '([^']+)\.\w+'", fresh.text())
    assert "en/queue_position.1" in heard, heard
    assert heard[heard.index("en/queue_position.1") + 1] == "digits/1", heard  # first in line
    eventually(
        lambda: any(r["outcome"] == "queued" for r in of_callers(call_records(box), [NEW_CALLER])),
        lambda: f"records: {of_callers(call_records(box), [NEW_CALLER])}",
        15,
    )
