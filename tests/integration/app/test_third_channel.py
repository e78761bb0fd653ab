"""A third phone system is one folder plus one line: the loopback phone (``tests/loopback``)
added to the composition root's channels, served by the real process runner on SQLite and
PostgreSQL. Its calls get the menus, the use cases, the queue, the hold, the callback
dialogue and the call records from ``ivr.phone`` alone (docs/adding-a-channel.md)."""

from __future__ import annotations

import ast
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from loopback.channel import LoopbackChannel
from loopback.phone import LoopbackCaller, answering, dialling, missed
from loopback.settings import LoopbackSettings

from integration.support import LI_WEI, ROOT, Db, Row, sign_in_busy
from ivr.app.bootstrap import Components
from ivr.app.channels import phone_channels
from ivr.app.runner import Running, Stopped, run
from ivr.phone.channel import Channel
from ivr.services.contact_ports import Callback

#: Silence at the language menu and the main menu: the general queue (open hours).
TO_THE_QUEUE = "t t t t t"
LOOPBACK = ROOT / "tests" / "loopback"
#: What the loopback phone may import of the hotline: the phone layer's interface and the
#: flow's values (and, for its dialer's signature, the ``Callback`` type the ``Dialer``
#: protocol names).
ALLOWED = ("ivr.phone", "ivr.flow", "ivr.errors", "ivr.services.contact_ports")


@dataclass
class Served:
    """The process running, and the loopback phone in it."""

    loopback: LoopbackChannel
    address: tuple[str, int]
    stop: Stopped

    def call(self, call_id: str, keys: str = "", **script: Any) -> LoopbackCaller:
        """A caller from Li Wei's phone, started."""
        first = dialling(call_id, LI_WEI[2])
        return LoopbackCaller(self.address, first, keys, **script).start()


@pytest.fixture
def serve() -> Iterator[Callable[[Components], Served]]:
    """``serve(components)``: ``run`` in a thread with every phone system of the
    composition root plus the loopback phone, one line; stopped after the test."""
    stop = Stopped()
    threads: list[threading.Thread] = []

    def start(components: Components) -> Served:
        loopback = LoopbackChannel(components, LoopbackSettings(port=0))
        channels: list[Channel] = [*phone_channels(components), loopback]  # the one line
        running: list[Running] = []
        started = threading.Event()

        def ready(now: Running) -> None:
            running.append(now)
            started.set()

        thread = threading.Thread(
            target=run, args=(components, channels), kwargs={"ready": ready, "stop": stop}
        )
        thread.start()
        threads.append(thread)
        assert started.wait(30)
        [server] = running[0].servers["loopback"]
        return Served(loopback, server.address, stop)

    yield start
    stop.set()
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive()


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_loopback_phone_is_a_channel_built_on_the_phone_layer_alone() -> None:
    channel: Channel = LoopbackChannel(None, LoopbackSettings())  # type: ignore[arg-type]
    assert channel.name == "loopback" and channel.servers() == []
    ours = {m for p in LOOPBACK.glob("*.py") for m in _imports(p) if m.startswith("ivr")}
    allowed = {m for m in ours for a in ALLOWED if m == a or m.startswith(f"{a}.")}
    assert ours and ours == allowed, sorted(ours - allowed)


def test_a_caller_resets_a_password_and_the_code_is_texted_through_the_loopback_phone(
    serve: Callable[[Components], Served], hotline: Components, db: Db
) -> None:
    served = serve(hotline)
    number, pin, phone = LI_WEI

    caller = served.call("loop-a1", f"1 1 {number}# {pin} 9").join()  # English, reset, bye

    assert caller.said()[:3] == ["ANSWER", "PLAY choose_language", "WAIT choose_language"]
    assert "reset_code_sent" in caller.prompts()
    assert caller.variables["OUTCOME"] == "solved" and caller.said()[-1] == "HANGUP"
    record = closed(db, "loop-a1")
    assert (record["channel"], record["outcome"], record["reason"]) == (
        "loopback", "solved", "password_reset",
    )  # fmt: skip
    assert record["account_number"] == number
    [(to, _body)] = served.loopback.texts.wait(1)  # the dispatcher's outbox, on this channel
    assert to == phone == db.one("sms_outbox")["to"]


def test_a_held_caller_hears_the_place_in_line_and_the_agent_offered_answers(
    serve: Callable[[Components], Served], hotline: Components, db: Db
) -> None:
    sign_in_busy(db)  # someone is signed in but busy: the caller is held in line
    served = serve(hotline)
    caller = served.call("loop-b1", TO_THE_QUEUE, talk=True)
    caller.wait_for(lambda c: "queue_position" in c.prompts())
    [place] = [m for m in caller.heard if m.field(0) == "queue_position"]
    assert place.values == {"position": "1"}

    center = hotline.contact_center
    alice = next(a for a in center.agents_view() if a.username == "alice")
    center.set_availability(alice.id, True)  # the hold's dispatch offers her the call
    caller.wait_for(lambda c: "RING" in [m.verb for m in c.heard])
    entry = db.one("queue_entries", call_id="loop-b1")
    ring = next(m for m in caller.heard if m.verb == "RING")
    assert ring.fields == (alice.endpoint, "20", str(entry["id"]))
    until(lambda: db.one("queue_entries", id=entry["id"])["state"] == "connected", "PICKUP")
    caller.talk_over.set()
    caller.join()

    assert caller.prompts()[-1] == "agent_connecting"
    assert caller.variables["OUTCOME"] == "agent" and caller.said()[-1] == "HANGUP"
    assert db.one("queue_entries", id=entry["id"])["state"] == "done"
    record = closed(db, "loop-b1")
    assert (record["channel"], record["outcome"], record["queue"]) == (
        "loopback", "queued", "general",
    )  # fmt: skip


def test_a_callback_asked_for_on_hold_is_dialled_and_answered_on_the_loopback_phone(
    serve: Callable[[Components], Served], hotline: Components, db: Db
) -> None:
    hotline.settings = replace(hotline.settings, callbacks_via="loopback")
    sign_in_busy(db)
    served = serve(hotline)
    # 1 at the callback offer, then 1: call back the number I am calling from.
    caller = served.call("loop-c1", f"{TO_THE_QUEUE} 1", press={"queue_callback_offer": "1"})
    caller.join()
    assert caller.variables["OUTCOME"] == "callback"
    [code] = [m.values["code"] for m in caller.heard if m.field(0) == "callback_code"]
    assert len(code) == 6 and code.isdigit()  # the reference code (the prompt says it twice)
    assert db.one("callbacks")["state"] == "waiting"

    callback = dialled(served, hotline)

    assert callback.number == LI_WEI[2]
    assert db.one("callbacks", id=callback.id)["state"] == "dialing"
    # The customer answers: greeted with the same code, then alice is rung and answers.
    answered = LoopbackCaller(served.address, answering(callback.id, "loop-c2")).start().join()
    assert answered.prompts()[0] == "callback_greeting"
    again = [m.values["code"] for m in answered.heard if m.field(0) == "callback_code_said"]
    assert again == [code, code]
    assert "RING" in [m.verb for m in answered.heard]
    assert answered.variables["OUTCOME"] == "agent"
    assert db.one("callbacks", id=callback.id)["state"] == "done"
    record = closed(db, "loop-c2")
    assert (record["channel"], record["outcome"]) == ("loopback", "agent")


def test_a_callback_the_customer_misses_is_a_failed_attempt_retried_later(
    serve: Callable[[Components], Served], hotline: Components, db: Db
) -> None:
    hotline.settings = replace(hotline.settings, callbacks_via="loopback")
    sign_in_busy(db)
    served = serve(hotline)
    served.call("loop-m1", f"{TO_THE_QUEUE} 1", press={"queue_callback_offer": "1"}).join()
    callback = dialled(served, hotline)

    LoopbackCaller(served.address, missed(callback.id)).start().join()

    row = db.one("callbacks", id=callback.id)
    assert (row["state"], row["attempts"]) == ("waiting", 1)  # dialled again later


def dialled(served: Served, hotline: Components) -> Callback:
    """Alice becomes available: the dispatcher offers her the callback and dials it
    through the loopback phone's dialer; the callback dialled."""
    center = hotline.contact_center
    alice = next(a for a in center.agents_view() if a.username == "alice")
    center.set_availability(alice.id, True)
    [callback] = served.loopback.callbacks.wait(1)
    return callback


@pytest.mark.parametrize(
    "how", ["h", "x", "?"], ids=["hangs up", "the connection drops", "the phone breaks"]
)
def test_a_caller_gone_mid_menu_leaves_the_record_abandoned(
    serve: Callable[[Components], Served], hotline: Components, db: Db, how: str
) -> None:
    served = serve(hotline)

    caller = served.call("loop-d1", f"1 {how}").join()  # English, then gone at the main menu

    assert caller.said()[-1] == "WAIT main_menu"  # nothing more was sent to the caller
    record = closed(db, "loop-d1")
    assert (record["channel"], record["outcome"]) == ("loopback", "abandoned")
    assert record["last_node"] == "main_menu"


def test_a_process_stopping_hands_a_held_caller_back_with_an_apology(
    serve: Callable[[Components], Served], hotline: Components, db: Db
) -> None:
    sign_in_busy(db)
    served = serve(hotline)
    caller = served.call("loop-e1", TO_THE_QUEUE)
    caller.wait_for(lambda c: "queue_position" in c.prompts())

    served.stop.set()  # SIGTERM: the server takes no new calls, held callers leave the hold
    caller.join()

    assert caller.prompts()[-1] == "system_error"
    assert caller.variables["OUTCOME"] == "fallback"  # the phone system's safe route
    assert db.one("queue_entries", call_id="loop-e1")["state"] == "abandoned"
    assert closed(db, "loop-e1")["outcome"] == "queued"


def closed(db: Db, call_id: str) -> Row:
    """The call's record once it is closed (the server closes it as the call ends, which
    may be just after the caller saw the line drop)."""
    until(lambda: db.one("call_records", call_id=call_id)["ended_at"] is not None, call_id)
    return db.one("call_records", call_id=call_id)


def until(condition: Callable[[], object], what: str, within: float = 10.0) -> None:
    """Poll until ``condition()`` holds; fail naming ``what`` after ``within`` seconds."""
    done = threading.Event()
    for _ in range(int(within / 0.05)):
        if condition():
            return
        done.wait(0.05)
    raise AssertionError(f"timed out waiting for {what}")
