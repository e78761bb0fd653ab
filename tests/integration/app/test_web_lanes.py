"""The web server's two lanes (``ivr.app.web_lanes``) on a real waitress server: webhooks
on the phone lane's thread, the rest on the pool; a webhook that does not end sends the
ones behind it, and the new ones, to the pool; a failing one does not stop the lane; a
shutdown waits for the webhook in hand."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from waitress import wasyncore
from waitress.server import create_server

from ivr.app.web_lanes import Lanes, PhoneLane

WAIT = 30.0  # seconds a test waits for what must happen (never a measure)


class App:
    """A WSGI app that answers with the name of the thread that served it; a path under
    ``/twilio/hold`` waits for ``release``, ``/twilio/fail`` raises."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.holding = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ["PATH_INFO"]
        if path.startswith("/twilio/hold"):
            self.holding.set()
            assert self.release.wait(WAIT)
        if path.startswith("/twilio/fail"):
            raise RuntimeError("a webhook that fails")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [threading.current_thread().name.encode()]


@contextmanager
def serving(app: App, stall: float = 60.0) -> Iterator[tuple[int, Lanes]]:
    sockets: dict[int, Any] = {}
    lanes = Lanes(["/twilio"], PhoneLane(stall=stall))
    lanes.set_thread_count(4)
    server = create_server(app, map=sockets, host="127.0.0.1", port=0, _dispatcher=lanes)
    port = int(server.getsockname()[1])  # type: ignore[union-attr]
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=sockets, use_poll=True, count=1)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield port, lanes
    finally:
        app.release.set()
        stop.set()
        thread.join(WAIT)
        lanes.shutdown(cancel_pending=True, timeout=5)
        wasyncore.close_all(sockets)


def get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    try:
        connection.request("POST", path, body=b"")
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_webhooks_on_the_lane_the_rest_on_the_pool() -> None:
    with serving(App()) as (port, _lanes):
        assert get(port, "/twilio/gather?step=1") == (200, "phone-lane")
        assert get(port, "/twilio/voice") == (200, "phone-lane")
        status, thread = get(port, "/supervisor/")
        assert status == 200 and thread.startswith("waitress-")
        status, thread = get(port, "/twilio-not-a-webhook")  # a prefix is a whole segment
        assert thread.startswith("waitress-")


def test_a_webhook_that_fails_leaves_the_lane_serving() -> None:
    with serving(App()) as (port, _lanes):
        assert get(port, "/twilio/fail")[0] == 500
        assert get(port, "/twilio/gather") == (200, "phone-lane")


def test_a_webhook_that_does_not_end_sends_the_others_to_the_pool() -> None:
    app = App()
    with serving(app, stall=0.05) as (port, lanes), ThreadPoolExecutor(4) as pool:
        held = pool.submit(get, port, "/twilio/hold")
        assert app.holding.wait(WAIT)
        # queued behind it (the lane not yet stalled when they came, or stalled):
        behind = [pool.submit(get, port, f"/twilio/gather?step={n}") for n in range(2)]
        for answered in behind:  # answered while the held webhook still waits
            status, thread = answered.result(WAIT)
            assert status == 200 and thread.startswith("waitress-")
        assert not held.done() and lanes.lane.stalled()
        app.release.set()
        assert held.result(WAIT) == (200, "phone-lane")
        assert get(port, "/twilio/gather?step=9") == (200, "phone-lane")  # the lane again


def test_a_shutdown_waits_for_the_webhook_in_hand() -> None:
    app = App()
    with serving(app) as (port, lanes), ThreadPoolExecutor(2) as pool:
        held: Future[tuple[int, str]] = pool.submit(get, port, "/twilio/hold")
        assert app.holding.wait(WAIT)
        stopping = pool.submit(lanes.shutdown, False, WAIT)
        app.release.set()
        assert held.result(WAIT) == (200, "phone-lane")
        stopping.result(WAIT)
        assert lanes.lane._thread is not None and not lanes.lane._thread.is_alive()  # noqa: SLF001


def test_a_webhook_that_comes_while_stopping_goes_to_the_pool() -> None:
    lanes = Lanes(["/twilio"])  # a pool of no threads: what it is given stays queued
    webhook = SimpleNamespace(requests=[SimpleNamespace(path="/twilio/gather")])
    lanes.shutdown(cancel_pending=False, timeout=5)
    lanes.add_task(webhook)
    assert list(lanes.queue) == [webhook]  # not left on a lane that no longer serves
