"""The calls of ``test_agents`` and ``test_callbacks``, made at once (``contact_calls``, a
session fixture that conftest registers): each scenario runs in its own thread, makes its
calls, asserts as it goes and returns; the fixture waits for both, and the tests read
their scenario's future.

The two share the general queue, so the order is arranged: the agent test's caller (A)
joins the queue before the callback test's caller (B), so bob, made available while both
may wait, takes A; bob stays in wrap-up (``IVR_WRAP_UP_SECONDS`` is long here) and then
goes offline. B's callback is only offered to alice, made available after A's call is
over. The FastAGI server runs the hotline with the agents' hours open all day
(``phones.serve_always_open``), so nothing depends on the time in Beijing.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ivr.app.asterisk_sandbox import Sandbox
from ivr.app.bootstrap import load_hotline
from ivr.services.contact_entries import Refused

from . import sipp
from .conftest import FLOW_PATH, PROMPTS, unavailable
from .phones import Phone, agent, contact_center, everyone_offline, serve_always_open
from .support import LogWatch
from .test_branches import spoken, spoken_digits, table
from .timeline import Gap, Sounds, Timeline

FLOW = load_hotline(FLOW_PATH)
AGENT, CALLBACK = "agent", "callback"
#: Which test module reads which scenario.
MODULES = {"test_agents": AGENT, "test_callbacks": CALLBACK}
#: How long the agent talks before the test hangs up their side.
TALK = 3.0
#: The callback caller: a number the hotline can call back.
CALLBACK_CALLER = "5551234"
#: After "transferring to an agent": the place, the estimate and the offer, then hold music.
INTO_HOLD = 12.0
#: B starts this much after A (A joins the queue first).
STAGGER = 3.0


# -- reading the calls ----------------------------------------------------------------------


def ask(name: str) -> tuple[str, ...]:
    return tuple(FLOW.nodes[name].prompts)  # type: ignore[attr-defined]


def timeout(name: str) -> float:
    return float(FLOW.nodes[name].timeout)  # type: ignore[attr-defined]


def to_an_agent(sounds: Sounds) -> Timeline:
    """English, then 0 at the main menu: the general queue (hours always open here)."""
    tl = Timeline(sounds)
    tl.press("1", *ask("choose_language"), timeout=timeout("choose_language")).play("welcome")
    return tl.press("0", *ask("main_menu"), timeout=timeout("main_menu"))


def sounds(sandbox: Sandbox) -> Sounds:
    return Sounds(PROMPTS / "en", sandbox.run / "data" / "sounds" / "en" / "digits")


def channel_of(log: LogWatch, caller_id: str) -> tuple[str, str]:
    """The call's channel and its log tag, from the dialplan's first NoOp."""
    found = log.wait_for(
        r"\[(C-[0-9a-f]+)\] pbx\.c: Executing \[[^]]+\] "
        rf'NoOp\("(PJSIP/caller-[0-9a-f]+)", "Wallet hotline call from "[^"]*" <{caller_id}>"\)'
    )
    return found.group(2), found.group(1)


def lines_of(log: LogWatch, *marks: str) -> str:
    return "\n".join(line for line in log.text().splitlines() if any(m in line for m in marks))


def played(text: str) -> list[str]:
    return re.findall(r"Playing '((?:en|zh|digits|moh)/[^']+)\.[a-z0-9]+' \(", text)


def entries(sandbox: Sandbox, **where: Any) -> list[dict[str, Any]]:
    return [r for r in table(sandbox, "queue_entries") if all(r[k] == v for k, v in where.items())]


def wait_connected(sandbox: Sandbox, entry_id: int) -> None:
    deadline = time.monotonic() + 10
    while entries(sandbox, id=entry_id)[0]["state"] != "connected":
        assert time.monotonic() < deadline, entries(sandbox, id=entry_id)
        time.sleep(0.2)


def hang_up(sandbox: Sandbox, caller: sipp.Caller, channel: str) -> None:
    """After a failure: end this call only (the other scenario's go on)."""
    if caller.process.poll() is None:
        if channel:
            sandbox.rx(f"channel request hangup {channel}")
        else:
            caller.process.kill()
        caller.wait()


# -- the scenarios ----------------------------------------------------------------------------


def agent_scenario(sandbox: Sandbox, folder: Path, done: threading.Event) -> None:
    """A waits, hears the place in line, bob's phone answers, bob hangs up after TALK."""
    try:
        _agent_scenario(sandbox, folder)
    finally:
        done.set()


def _agent_scenario(sandbox: Sandbox, folder: Path) -> None:
    center = contact_center(sandbox)
    bob = agent(center, "bob")
    log = LogWatch(sandbox)
    tl = to_an_agent(sounds(sandbox))
    caller = sipp.start(sandbox.sip_port, tl.presses(), 90, folder / "caller", "e2e-agent")
    phone: Phone | None = None
    channel = ""
    try:
        channel, tag = channel_of(log, "e2e-agent")
        # Held by the controller: the place in line (SAY NUMBER 1), then hold music.
        log.wait_for(rf"\[{tag}\].*Playing 'moh/hold-\d\.", timeout=40)
        phone = Phone(sandbox, "agent-bob", folder / "bob")
        assert center.set_availability(bob.id, True).state == "available"  # type: ignore[union-attr]
        dial = log.wait_for(
            rf"\[{tag}\].*AGI Script Executing Application: \(Dial\) "
            r"Options: \((PJSIP/agent-bob,20,gU\(hotline-answered\^(\d+)\))\)"
        )
        entry_id = int(dial.group(2))
        answered = log.wait_for(
            r'Executing \[s@hotline-answered:1\] NoOp\("(PJSIP/agent-bob-[0-9a-f]+)", '
            rf'"IVR agent answered entry {entry_id}"\)'
        )
        wait_connected(sandbox, entry_id)
        assert agent(center, "bob").state == "on_call"
        time.sleep(TALK)
        sandbox.rx(f"channel request hangup {answered.group(1)}")  # the agent hangs up
        result = caller.wait()
        bob_after = agent(center, "bob")
        assert phone.wait(20) == 0, phone.messages.read_text(errors="replace")[-2000:]
    finally:
        hang_up(sandbox, caller, channel)
        if phone:
            phone.stop()
        center.set_availability(bob.id, False)

    text = lines_of(log, f"[{tag}]", channel)
    assert result.ok, result.errors
    assert result.hung_up_by == "hotline", text[-3000:]
    heard = played(text)
    hold_at = heard.index("en/queue_position.1")
    assert heard[hold_at : hold_at + 3] == [
        "en/queue_position.1",
        "digits/1",  # SAY NUMBER 1: first in line
        "en/queue_position.2",
    ], heard
    assert "SAY NUMBER 1" in text or "digits/1" in text
    assert "en/queue_callback_offer" in heard  # offered at once in these tests
    assert any(name.startswith("moh/hold-") for name in heard), heard
    assert heard[-1] == "en/agent_connecting", heard

    entry = entries(sandbox, id=entry_id)[0]
    assert (entry["state"], entry["kind"], entry["queue"]) == ("done", "call", "general"), entry
    assert entry["agent_id"] == bob.id and entry["caller_id"] == "e2e-agent", entry
    assert entry["talk_seconds"] is not None and TALK - 1 <= entry["talk_seconds"] <= TALK + 5
    assert entry["wait_seconds"] is not None and entry["wait_seconds"] >= 1, entry
    assert entry["path"][-2:] == ["agent_hours", "agent"], entry
    assert bob_after.state == "wrap_up", bob_after
    audit = [r["action"] for r in table(sandbox, "audit_log") if r["call_id"] == entry["call_id"]]
    assert "queue_offered" in audit, audit


def callback_scenario(sandbox: Sandbox, folder: Path, agent_call_over: threading.Event) -> None:
    """B asks for a callback and hangs up; alice is free; B's phone is called back with the
    same code and alice's phone answers; a second attempt is refused."""
    center = contact_center(sandbox)
    alice = agent(center, "alice")
    log = LogWatch(sandbox)
    time.sleep(STAGGER)

    # 1. The caller asks for a callback on the number they call from.
    tl = to_an_agent(sounds(sandbox)).play("transferring_to_agent").pause(INTO_HOLD)
    tl.press("1", Gap(3.0), timeout=3.0, lead=0.5)  # during hold music
    choice = spoken("callback_number_choice", last4=CALLBACK_CALLER[-4:])
    tl.press("1", *choice, timeout=6.0)
    workdir = folder / "caller"
    caller = sipp.start(sandbox.sip_port, tl.presses(), 45, workdir, CALLBACK_CALLER)
    channel = ""
    try:
        channel, tag = channel_of(log, CALLBACK_CALLER)
        result = caller.wait()
    finally:
        hang_up(sandbox, caller, channel)
    asked = lines_of(log, f"[{tag}]", channel)
    heard = played(asked)
    assert result.ok, result.errors
    assert result.hung_up_by == "hotline", asked[-3000:]
    assert "en/callback_number_choice.1" in heard, heard
    code = spoken_digits(heard, "en/callback_code.1", "en/callback_code.2")
    assert re.fullmatch(r"\d{6}", code), heard
    assert spoken_digits(heard, "en/callback_code.2", "en/callback_scheduled") == code, heard
    assert heard[-1] == "en/callback_scheduled", heard
    callbacks = [c for c in center.callbacks_view() if c.number == CALLBACK_CALLER]
    assert len(callbacks) == 1, callbacks
    callback = callbacks[0]
    assert (callback.state, callback.queue, callback.attempts) == ("waiting", "general", 0)
    entry = entries(sandbox, id=callback.entry_id)[0]
    assert (entry["kind"], entry["state"]) == ("callback", "waiting"), entry
    rows = [r for r in table(sandbox, "callbacks") if r["id"] == callback.id]
    assert code not in str(rows), rows  # only a hash of the code is kept

    # 2. An agent is free: the controller calls the customer back.
    assert agent_call_over.wait(120), "the agent test's call did not end"
    customer = Phone(sandbox, "hotline-callbacks", folder / "customer")
    desk = Phone(sandbox, "agent-alice", folder / "alice")
    log = LogWatch(sandbox)
    try:
        assert center.set_availability(alice.id, True).state == "available"  # type: ignore[union-attr]
        opened = log.wait_for(
            r"\[(C-[0-9a-f]+)\] pbx\.c: Executing \[s@hotline-callback:1\] "
            rf'NoOp\("(PJSIP/hotline-callbacks-[0-9a-f]+)", "IVR callback {callback.id} to ',
            timeout=30,
        )
        back_tag, back_channel = opened.group(1), opened.group(2)
        answered = log.wait_for(
            r'Executing \[s@hotline-answered:1\] NoOp\("(PJSIP/agent-alice-[0-9a-f]+)", '
            rf'"IVR agent answered entry {callback.entry_id}"\)',
            timeout=60,
        )
        wait_connected(sandbox, callback.entry_id)
        time.sleep(TALK)
        sandbox.rx(f"channel request hangup {answered.group(1)}")  # the agent hangs up
        assert customer.wait(20) == 0, customer.messages.read_text(errors="replace")[-2000:]
        assert desk.wait(20) == 0, desk.messages.read_text(errors="replace")[-2000:]
        alice_after = agent(center, "alice")
    finally:
        customer.stop()
        desk.stop()
        center.set_availability(alice.id, False)

    greeting = played(lines_of(log, f"[{back_tag}]", back_channel))
    assert greeting[:3] == [
        "en/callback_greeting",
        "en/callback_about_general",  # the caller chose an agent at the main menu
        "en/callback_code_said.1",
    ], greeting
    first, second = _twice(greeting)
    assert first == second == code, greeting  # the SAME code, twice
    assert "en/callback_connecting" in greeting, greeting

    final = [c for c in center.callbacks_view() if c.id == callback.id][0]
    assert (final.state, final.attempts) == ("done", 1), final
    entry = entries(sandbox, id=callback.entry_id)[0]
    assert (entry["state"], entry["agent_id"]) == ("done", alice.id), entry
    assert entry["talk_seconds"] is not None and entry["talk_seconds"] >= TALK - 1, entry
    assert alice_after.state == "wrap_up", alice_after

    # 3. The same request again: refused, and no second call file, no second call.
    refused = center.call_now(callback.id, alice.id)
    assert isinstance(refused, Refused), refused
    assert center.due_callbacks() == []
    time.sleep(2.5)  # more than two rounds of the dispatcher
    assert list(sandbox.spool.iterdir()) == []
    assert len(re.findall(rf"IVR callback {callback.id} to ", log.text())) == 1
    fastagi = (sandbox.run / "log" / "fastagi.log").read_text(errors="replace")
    assert len(re.findall(rf"callback {callback.id}: calling back", fastagi)) == 1


def _twice(names: list[str]) -> tuple[str, str]:
    """The digits said after each of the two ``callback_code_said`` prompts."""
    said: list[str] = []
    for name in names:
        if name == "en/callback_code_said.1":
            said.append("")
        elif name.startswith("digits/") and said:
            said[-1] += name.removeprefix("digits/")
        elif said and said[-1]:
            break
    assert len(said) >= 2, names
    return said[0], said[1]


# -- the fixture ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def contact_calls(
    request: pytest.FixtureRequest,
    sandbox: Sandbox,
    prompt_audio: str | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Future[None]]]:
    """The scenarios of the selected tests, started at once; each test waits for its own."""
    wanted = {
        MODULES[item.module.__name__.rpartition(".")[2]]
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.module is not None
        and item.module.__name__.rpartition(".")[2] in MODULES
    }
    if prompt_audio:
        unavailable(f"the hotline would be silent: {prompt_audio}")
    folder = tmp_path_factory.mktemp("contact-calls")
    futures: dict[str, Future[None]] = {}
    # Both scenarios end before the fixture yields: the FastAGI server is back on the real
    # flow before any other test module calls in.
    for served in serve_always_open(sandbox, folder):
        everyone_offline(contact_center(served))
        agent_over = threading.Event()
        if AGENT not in wanted:
            agent_over.set()
        with ThreadPoolExecutor(2) as pool:
            if AGENT in wanted:
                futures[AGENT] = pool.submit(agent_scenario, served, folder / AGENT, agent_over)
            if CALLBACK in wanted:
                futures[CALLBACK] = pool.submit(
                    callback_scenario, served, folder / CALLBACK, agent_over
                )
        everyone_offline(contact_center(served))
    yield futures
