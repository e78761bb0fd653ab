"""Bursts without loss, on SQLite and PostgreSQL: the PIN check (scrypt) runs with no
connection and no lock held; checks of one account racing each other still lock it once;
many FastAGI callers verifying at once through a deliberately small pool are all
verified and all recorded; a caller who gets no connection in time takes the safe route
and keeps its record; the dispatcher outlives a pool timeout."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest
from agi_fake import FakeAsterisk, environment
from sqlalchemy import Connection

from integration.conftest import hotline_settings
from integration.phone.asterisk.test_call_records_live import fastagi_thread
from integration.support import EMMA, LI_WEI, OMAR, ZHANG_MIN, Db, StoppedClock
from ivr.app.bootstrap import Components, bootstrap
from ivr.app.config import Settings
from ivr.app.dispatcher import Dispatcher
from ivr.center import lifecycle as lc
from ivr.flow.actions import RunAction
from ivr.flow.model import VERIFY_ACTION
from ivr.phone.asterisk.call_files import CallbackSettings
from ivr.phone.asterisk.channel import CallFileDialer
from ivr.phone.asterisk.fastagi import FastAgiServer
from ivr.services import ports
from ivr.services.contact_agents import AGENT
from ivr.services.contact_center import WaitingCall
from ivr.services.usecases import UseCases
from ivr.store.unit_of_work import SqlUnitOfWork, WriterBusy

WRONG_PIN = "975312"
#: Far longer than any verification takes on a loaded machine; only a stuck call hits it.
GENEROUS = 30.0
CALLERS = 40


def verify_action(number: str, pin: str, ani: str, call_id: str) -> RunAction:
    args = {"account_number": number, "pin": pin, "ani": ani, "call_id": call_id}
    return RunAction("check_identity", VERIFY_ACTION, args, frozenset({"pin"}))


class Watched(ports.PinChecker):
    """The hotline's PIN checker, noting what was held while it hashed; ``gate`` (a
    barrier) holds every check until all have read what they need."""

    def __init__(self, hotline: Components, gate: threading.Barrier | None = None) -> None:
        self.hotline = hotline
        self.real = hotline.pins
        self.gate = gate
        self.held: list[tuple[int, bool]] = []  # (connections checked out, writer lock)

    def matches(self, pin: str, stored: str | None) -> bool:
        if self.gate is not None:
            self.gate.wait()
        lock = self.hotline._writer_lock
        out = self.hotline.database.pool.checkedout()  # type: ignore[attr-defined]
        self.held.append((out, lock is not None and lock.locked()))
        return self.real.matches(pin, stored)

    def upgraded(self, pin: str, stored: str) -> str | None:
        return self.real.upgraded(pin, stored)


def use_cases(hotline: Components, pins: ports.PinChecker) -> UseCases:
    return UseCases(hotline.unit_of_work, hotline.clock, hotline.settings.secret, pins)


def test_the_pin_is_hashed_with_no_connection_and_no_lock_held(hotline: Components) -> None:
    watched = Watched(hotline)
    checks = use_cases(hotline, watched)
    number, pin, phone = LI_WEI

    assert checks.run(verify_action(number, pin, phone, "call-1")).outcome == "success"
    assert checks.run(verify_action(number, WRONG_PIN, phone, "call-2")).outcome == "failure"
    assert checks.run(verify_action("99999999", pin, phone, "call-3")).outcome == "failure"

    assert watched.held == [(0, False)] * 3  # unknown numbers are hashed too


def test_wrong_pins_checked_at_once_all_count_and_lock_the_account_once(
    hotline: Components, db: Db
) -> None:
    number, _, phone = LI_WEI
    together = 6
    watched = Watched(hotline, threading.Barrier(together, timeout=GENEROUS))
    checks = use_cases(hotline, watched)
    outcomes: list[str] = []

    def check(n: int) -> None:
        outcomes.append(checks.run(verify_action(number, WRONG_PIN, phone, f"c{n}")).outcome)

    threads = [threading.Thread(target=check, args=(n,)) for n in range(together)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GENEROUS)

    # All six read "not locked" before any recorded; the fifth recorded failure locks the
    # account and opens the one incident; the sixth finds it locked.
    assert sorted(outcomes) == ["failure"] * 4 + ["locked"] * 2
    assert [a["succeeded"] for a in db.rows("verification_attempts")] == [False] * 5
    [incident] = db.rows("security_incidents")
    assert (incident["account_number"], incident["kind"]) == (number, "verification_lockout")
    assert db.count("audit_log", action="verification_locked") == 1


# -- FastAGI callers ---------------------------------------------------------------------


@dataclass
class Caller:
    """A fake Asterisk for one caller who verifies, and the silence after their PIN."""

    fake: FakeAsterisk
    after_pin: int  # keys left in the script once the PIN is in
    silence: float | None = None
    on_command: Callable[[str], None] | None = None
    sent_at: list[float] = field(default_factory=list)

    def talk(self, port: int) -> None:
        pin_in_at: float | None = None
        with socket.create_connection(("127.0.0.1", port), timeout=GENEROUS * 2) as sock:
            reader = sock.makefile("r", encoding="utf-8", newline="\n")
            writer = sock.makefile("w", encoding="utf-8", newline="\n")
            writer.write("".join(f"{line}\n" for line in self.fake.environment) + "\n")
            writer.flush()
            for command in reader:
                if pin_in_at is not None and self.silence is None:
                    self.silence = time.monotonic() - pin_in_at
                if self.on_command is not None:
                    self.on_command(command)
                lines = self.fake.reply(command)
                if self.fake.state == "closed":
                    return
                try:
                    writer.write("".join(f"{line}\n" for line in lines))
                    writer.flush()
                except OSError:
                    return
                if pin_in_at is None and len(self.fake.script) == self.after_pin:
                    pin_in_at = time.monotonic()


def verifying_caller(n: int, who: tuple[str, str, str], then: str = "9") -> Caller:
    """English, payment failure, account, PIN; then ``then`` (9: goodbye at the menu
    after the payment; nothing: hang up at the next command that waits for keys)."""
    number, pin, phone = who
    env = environment(
        "fastagi_session.txt",
        agi_network_script="hotline",
        agi_uniqueid=f"1700000000.{n}",
        agi_callerid=phone,
    )
    return Caller(FakeAsterisk(f"1 2 {number}# {pin} {then}", env=env), after_pin=len(then))


@pytest.fixture
def small_pool(seeded_url: str, clock: StoppedClock) -> Iterator[Callable[..., Components]]:
    """``small_pool(size, timeout)``: a hotline whose pool (and SQLite writer lock) is
    that small, from the environment as a deployment sets it."""
    made: list[Components] = []

    def build(size: int, timeout: int) -> Components:
        env = {"IVR_DB_POOL_SIZE": str(size), "IVR_DB_POOL_TIMEOUT": str(timeout)}
        sized = Settings.from_env(env)
        settings = replace(
            hotline_settings(seeded_url),
            db_pool_size=sized.db_pool_size,
            db_pool_timeout=sized.db_pool_timeout,
        )
        hotline = bootstrap(settings, clock)
        made.append(hotline)
        return hotline

    yield build
    for hotline in made:
        hotline.database.dispose()


@pytest.fixture
def serving() -> Iterator[Callable[[Components], FastAgiServer]]:
    """Start ``ivr fastagi``'s server for a hotline in a thread; stopped after the test."""
    with ExitStack() as servers:
        yield lambda hotline: servers.enter_context(fastagi_thread(hotline))


def test_forty_callers_verifying_at_once_through_a_small_pool_are_all_verified_and_recorded(
    small_pool: Callable[..., Components], serving: Callable[[Components], FastAgiServer], db: Db
) -> None:
    hotline = small_pool(3, 10)
    assert hotline.database.pool.size() == 3  # type: ignore[attr-defined]
    port = serving(hotline).address[1]
    accounts = (LI_WEI, EMMA, ZHANG_MIN, OMAR)
    callers = [verifying_caller(n, accounts[n % len(accounts)]) for n in range(CALLERS)]
    threads = [threading.Thread(target=c.talk, args=(port,)) for c in callers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GENEROUS * 2)

    assert not any(t.is_alive() for t in threads)
    assert [c.fake.variables.get("IVR_OUTCOME") for c in callers] == ["solved"] * CALLERS
    attempts = db.rows("verification_attempts")
    assert len(attempts) == CALLERS and all(a["succeeded"] for a in attempts)
    records = db.rows("call_records")
    assert sorted(r["call_id"] for r in records) == sorted(f"1700000000.{n}" for n in range(40))
    assert all(r["ended_at"] is not None and r["outcome"] == "solved" for r in records)
    assert all("system_error" not in r["path"] for r in records)
    silences = [c.silence for c in callers]
    assert all(s is not None and s < GENEROUS for s in silences), silences


def test_a_caller_who_gets_no_connection_in_time_takes_the_safe_route_and_is_recorded(
    small_pool: Callable[..., Components], serving: Callable[[Components], FastAgiServer], db: Db
) -> None:
    hotline = small_pool(1, 1)
    taken: list[Connection] = []

    class TakesTheConnection(Watched):
        """While the PIN is hashed, something else takes the pool's one connection..."""

        def matches(self, pin: str, stored: str | None) -> bool:
            taken.append(self.hotline.database.connect())
            return super().matches(pin, stored)

    class GivesItBack(SqlUnitOfWork):
        """...until a unit of work has waited for it in vain (each of its tries)."""

        def __enter__(self) -> SqlUnitOfWork:
            try:
                return super().__enter__()
            except Exception:
                for connection in taken:
                    connection.close()
                raise

    def unit_of_work() -> ports.UnitOfWork:
        return GivesItBack(hotline.sessions, hotline._writer_lock, 1)

    hotline.__dict__["use_cases"] = UseCases(
        unit_of_work, hotline.clock, hotline.settings.secret, TakesTheConnection(hotline)
    )
    port = serving(hotline).address[1]
    caller = verifying_caller(1, LI_WEI, then="")  # hangs up on hold
    caller.talk(port)

    assert len(taken) == 1 and taken[0].closed
    assert any("system_error" in c for c in caller.fake.commands)  # the on_error route
    assert db.count("verification_attempts") == 0  # the attempt could not be recorded
    record = db.one("call_records", call_id="1700000000.1")
    assert record["path"][-3:] == ["system_error", "agent_hours", "agent"]  # to a person
    assert record["ended_at"] is not None
    assert record["outcome"] == caller.fake.variables["IVR_OUTCOME"] == "queued"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_unit_of_work_waits_for_the_sqlite_writer_lock_no_longer_than_the_pool_would(
    small_pool: Callable[..., Components],
) -> None:
    hotline = small_pool(2, 1)
    lock = hotline._writer_lock
    assert lock is not None
    with lock:
        started = time.monotonic()
        with pytest.raises(WriterBusy, match="writer lock"), hotline.unit_of_work():
            pass
        assert time.monotonic() - started < GENEROUS
    number, pin, phone = LI_WEI
    assert hotline.use_cases.run(verify_action(number, pin, phone, "c1")).outcome == "success"


def test_the_dispatcher_outlives_a_pool_timeout_and_assigns_on_a_later_round(
    small_pool: Callable[..., Components], clock: StoppedClock, caplog: pytest.LogCaptureFixture
) -> None:
    hotline = small_pool(1, 1)
    center = hotline.contact_center
    with hotline.unit_of_work() as uow:
        agent = uow.agents.add(
            "burst", "Burst Agent", "-", AGENT, frozenset({"general"}),
            frozenset({"en"}), "agent-burst", clock.now(),
        )  # fmt: skip
        uow.agents.set_state(agent.id, lc.AVAILABLE, clock.now() - timedelta(seconds=5))
        uow.commit()
    center.enqueue(
        WaitingCall("call-b", "general", 1, "general", "en", "+15550001", None, None, ("a",))
    )
    callbacks = CallbackSettings.from_env()
    dispatcher = Dispatcher(
        lambda: center, CallFileDialer(callbacks), callbacks.ring_seconds, interval=0.05
    )
    held = hotline.database.connect()  # the pool's one connection
    dispatcher.start()
    try:
        deadline = time.monotonic() + GENEROUS
        while "a round failed" not in caplog.text:
            assert time.monotonic() < deadline, "no round ever failed"
            time.sleep(0.05)
        held.close()
        while (center.agent(agent.id) or agent).state != lc.RINGING:
            assert time.monotonic() < deadline, "the dispatcher never recovered"
            time.sleep(0.05)
        assert dispatcher._thread is not None and dispatcher._thread.is_alive()
    finally:
        dispatcher.stop()
    assert "TimeoutError" in caplog.text
