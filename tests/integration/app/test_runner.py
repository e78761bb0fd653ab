"""The process runner and the composition root's picks, with a phone system the product
does not have: a test-only channel that offers a server, web routes, a dialer and SMS
through ``ivr.phone.channel`` alone. The real channels run in ``ivr fastagi`` and
``ivr serve`` (``tests/integration/phone/asterisk/test_fastagi.py``, ``served.py``)."""

from __future__ import annotations

import logging
import threading
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import replace

import pytest
from flask import Blueprint

from integration.support import Db
from ivr.app.bootstrap import Components
from ivr.app.channels import callback_dialer, dispatcher_for, sms_sender, twilio_calls
from ivr.app.runner import Running, Stopped, run
from ivr.errors import IvrError
from ivr.phone.channel import Channel, Server, SmsSender
from ivr.phone.twilio.channel import TwilioChannel
from ivr.phone.twilio.rest import TwilioNotConfigured
from ivr.phone.twilio.settings import TwilioSettings
from ivr.services.contact_callbacks import Callback
from ivr.services.contact_entries import WaitingCall

sqlite = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


class FakeServer:
    """Serves until ``shutdown()``; notes what the runner asked of it, in order."""

    def __init__(self, said: list[str]) -> None:
        self.said = said
        self.stopped = threading.Event()

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", 1)

    def serve_forever(self, poll_interval: float = 0.2) -> None:
        self.said.append("serving")
        self.stopped.wait(30)

    def shutdown(self) -> None:
        self.said.append("no new calls")
        self.stopped.set()

    def server_close(self) -> None:
        self.said.append("closed")


class FakeDialer:
    failure = "no fake call"
    calling = "calling back through the fake"

    def __init__(self) -> None:
        self.dialled: list[Callback] = []

    def call_back(self, callback: Callback, ring_seconds: int) -> str:
        self.dialled.append(callback)
        return f"fake-{callback.id}"

    def shown(self, placed: str) -> str:
        return placed


class FakeChannel:
    name = "fake"

    def __init__(self) -> None:
        self.said: list[str] = []
        self.made: list[FakeServer] = []
        self.dialer_ = FakeDialer()
        self.sent: list[tuple[str, str]] = []

    def servers(self) -> Sequence[Server]:
        self.made.append(FakeServer(self.said))
        return self.made

    def blueprint(self) -> Blueprint:
        bp = Blueprint("fake", __name__, url_prefix="/fake")
        bp.add_url_rule("/ping", "ping", lambda: "pong")
        return bp

    def dialer(self) -> FakeDialer:
        return self.dialer_

    def sms(self) -> SmsSender:
        def send(to: str, body: str) -> str:
            self.sent.append((to, body))
            return "fake-sms"

        return send


@pytest.fixture
def fake_hotline(hotline: Components) -> Components:
    """The hotline dialling callbacks through the fake channel."""
    hotline.settings = replace(hotline.settings, callbacks_via="fake")
    return hotline


@pytest.fixture
def serving(fake_hotline: Components) -> Iterator[tuple[FakeChannel, Running, Stopped]]:
    """``run`` in a thread with the fake channel, no web; stopped after the test."""
    channel, stop, started = FakeChannel(), Stopped(), threading.Event()
    running: list[Running] = []

    def ready(now: Running) -> None:
        running.append(now)
        started.set()

    thread = threading.Thread(
        target=run, args=(fake_hotline, [channel]), kwargs={"ready": ready, "stop": stop}
    )
    thread.start()
    assert started.wait(30)
    yield channel, running[0], stop
    stop.set()
    thread.join(30)
    assert not thread.is_alive()


def test_the_interface_is_all_a_phone_system_needs() -> None:
    channel: Channel = FakeChannel()  # mypy: the fake is a Channel
    assert channel.name == "fake"


@sqlite
def test_a_channels_servers_run_until_stopped_then_close_last(
    serving: tuple[FakeChannel, Running, Stopped],
) -> None:
    channel, running, stop = serving
    assert running.web is None and running.servers == {"fake": channel.made}
    stop.set()
    [server] = channel.made
    while "closed" not in channel.said:
        server.stopped.wait(0.05)
    assert channel.said == ["serving", "no new calls", "closed"]


@sqlite
def test_a_server_that_ends_stops_the_process(
    serving: tuple[FakeChannel, Running, Stopped],
) -> None:
    channel, _running, stop = serving
    channel.made[0].stopped.set()  # serve_forever returns of itself
    assert stop.wait(10)


def without_an_account(hotline: Components) -> TwilioChannel:
    """Twilio with its webhooks but no account (no callbacks or SMS through it)."""
    settings = TwilioSettings.of(hotline.settings)
    return TwilioChannel(hotline, settings, twilio_calls(hotline), None)


@sqlite
def test_the_dialer_is_the_named_channels_and_sms_the_first_offered(hotline: Components) -> None:
    fake = FakeChannel()
    channels: list[Channel] = [without_an_account(hotline), fake]
    assert callback_dialer("fake", channels) is fake.dialer_
    assert sms_sender(channels) is not None
    assert sms_sender([without_an_account(hotline)]) is None
    with pytest.raises(IvrError, match="IVR_CALLBACKS_VIA=nowhere: no such phone system"):
        callback_dialer("nowhere", channels)


@sqlite
def test_the_dispatcher_dials_through_the_channel_named(
    fake_hotline: Components, db: Db, caplog: pytest.LogCaptureFixture
) -> None:
    center = fake_hotline.contact_center
    entry = center.enqueue(
        WaitingCall("call-f1", "general", 1, "general", "en", "5551234", None, "security", ())
    )
    callback, _code = center.request_callback(entry.id, "5551234")
    alice = next(a for a in center.agents_view() if a.username == "alice")
    center.set_availability(alice.id, True)
    fake = FakeChannel()
    caplog.set_level(logging.WARNING)

    dispatcher = dispatcher_for(fake_hotline, [fake])

    assert dispatcher.send_sms and dispatcher.run_once() == [f"fake-{callback.id}"]
    assert [c.id for c in fake.dialer_.dialled] == [callback.id]
    said = f"callback {callback.id}: calling back through the fake for agent alice (attempt 1)"
    assert said in caplog.text
    assert db.one("callbacks", id=callback.id)["state"] == "dialing"


@sqlite
def test_twilio_without_an_account_is_refused_before_anything_listens(
    hotline: Components,
) -> None:
    hotline.settings = replace(hotline.settings, callbacks_via="twilio")
    fake = FakeChannel()
    with pytest.raises(TwilioNotConfigured, match="IVR_CALLBACKS_VIA=twilio needs"):
        run(hotline, [fake, without_an_account(hotline)], stop=Stopped())
    assert fake.made == []


@sqlite
def test_the_web_server_mounts_each_channels_routes(fake_hotline: Components) -> None:
    fake, stop, started = FakeChannel(), Stopped(), threading.Event()
    running: list[Running] = []

    def ready(now: Running) -> None:
        running.append(now)
        started.set()

    thread = threading.Thread(
        target=run,
        args=(fake_hotline, [fake], ("127.0.0.1", 0)),
        kwargs={"ready": ready, "stop": stop},
    )
    thread.start()
    try:
        assert started.wait(30)
        web = running[0].web
        assert web is not None
        with urllib.request.urlopen(f"http://{web[0]}:{web[1]}/fake/ping", timeout=10) as r:
            assert r.read() == b"pong"
    finally:
        stop.set()
        thread.join(30)
