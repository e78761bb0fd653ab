"""The console's server-sent events (``GET /api/events``, ``ivr.web.events``) with Flask's
test client on a real seeded database: what a stream says, that it sends a snapshot only
when something changed, the cap on open streams (503 beyond it), the end of a stream's
lifetime, and a database that goes away and comes back."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from outage import Outage

from integration.web_client import Web, caller
from ivr.app.bootstrap import Components
from ivr.web import events
from ivr.web.events import StreamLimits

QUICK = StreamLimits(max_streams=2, lifetime=0.6, interval=0.05, heartbeat=0.2, retry_ms=1500)


def web_for(hotline: Components, limits: StreamLimits = QUICK) -> Web:
    web = Web(hotline)
    web.app.config[events.CONFIG] = limits
    assert web.sign_in("alice").status_code == 302
    return web


@pytest.fixture
def web(hotline: Components) -> Web:
    return web_for(hotline)


def messages(chunks: Iterator[bytes]) -> Iterator[tuple[str, Any]]:
    """``(event, data)`` for each message (``("", comment)`` for a heartbeat)."""
    for chunk in chunks:
        text = chunk.decode()
        if text.startswith("retry:") or text.startswith(":"):
            yield "", text.strip()
            continue
        name, data = text.strip().split("\n")
        yield name.removeprefix("event: "), json.loads(data.removeprefix("data: "))


def opened(web: Web) -> Any:
    response = web.client.get("/api/events", buffered=False)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def test_a_stream_says_retry_then_one_snapshot_heartbeats_and_bye(web: Web) -> None:
    response = opened(web)
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-store"
    said = list(messages(response.iter_encoded()))
    assert said[0] == ("", "retry: 1500")
    snapshots = [data for name, data in said if name == "snapshot"]
    assert len(snapshots) == 1  # nothing changed: sent once, not at every turn
    assert snapshots[0]["desk"]["agent"]["username"] == "alice"
    assert set(snapshots[0]) == {"desk", "queue", "callbacks"}
    assert ("", ": still here") in said
    assert said[-1][0] == "bye"  # the lifetime is over: the browser reconnects
    assert web.app.extensions["ivr.event_gate"].open == 0


def test_a_change_is_sent_at_the_next_turn(hotline: Components) -> None:
    # a lifetime the enqueue cannot outlast on a busy machine (QUICK's ends the stream)
    web = web_for(hotline, replace(QUICK, lifetime=10))
    response = opened(web)
    said = messages(response.iter_encoded())
    assert next(said)[0] == ""
    first = next(said)
    assert first[0] == "snapshot" and first[1]["queue"]["count"] == 0
    web.center.enqueue(caller("events-1", "general"))
    name, data = next(said)
    assert name == "snapshot" and data["queue"]["count"] == 1
    assert data["queue"]["entries"][0]["call_id"] == "events-1"
    response.close()
    assert web.app.extensions["ivr.event_gate"].open == 0


def test_one_stream_past_the_cap_is_refused_with_503(web: Web) -> None:
    first, second = opened(web), opened(web)
    refused = web.client.get("/api/events")
    assert refused.status_code == 503
    assert refused.json is not None and refused.json["error"] == "busy"
    assert refused.headers["Retry-After"] == "30"
    first.close()
    third = opened(web)  # a closed stream gives its place back
    second.close()
    third.close()
    assert web.app.extensions["ivr.event_gate"].open == 0


def test_a_stream_needs_a_signed_in_agent(hotline: Components) -> None:
    response = Web(hotline).client.get("/api/events")
    assert response.status_code == 401


def test_a_database_that_goes_away_is_said_and_the_stream_goes_on(
    make_hotline: Callable[..., Components], outage: Outage
) -> None:
    slow = StreamLimits(max_streams=2, lifetime=30, interval=0.05, heartbeat=0.3)
    web = web_for(make_hotline(outage.url), slow)
    response = opened(web)
    said = messages(response.iter_encoded())
    next(said)
    assert next(said)[0] == "snapshot"
    outage.cut()
    try:
        if outage.url.startswith("sqlite"):
            # SQLite's outage locks out writers only: the stream only reads, so it goes on
            # (a heartbeat: its reads went through, nothing changed), never "away".
            assert next(said) == ("", ": still here")
            response.close()
            return
        name, data = next(said)
        assert (name, data) == ("away", {"message": events.AWAY})
    finally:
        outage.restore()
    name, data = next(said)
    while name == "away":  # a connection the pool still held may fail once more
        name, data = next(said)
    assert name == "snapshot" and data["desk"]["agent"]["username"] == "alice"
    response.close()


def test_a_stopping_process_ends_its_streams_at_once(web: Web) -> None:
    web.app.config[events.CONFIG] = StreamLimits(lifetime=60, interval=0.05, heartbeat=10)
    response = opened(web)
    said = messages(response.iter_encoded())
    next(said)
    assert next(said)[0] == "snapshot"
    web.hotline.stopping.set()
    assert next(said)[0] == "bye"  # not a minute later
    response.close()


def test_the_stream_of_an_agent_disabled_meanwhile_ends(hotline: Components) -> None:
    web = web_for(hotline, StreamLimits(max_streams=2, lifetime=30, interval=0.05))
    response = opened(web)
    said = messages(response.iter_encoded())
    assert next(said)[0] == "" and next(said)[0] == "snapshot"
    alice = next(a for a in web.center.agents_view() if a.username == "alice")
    with hotline.unit_of_work() as uow:
        assert uow.agents.edit(alice.id, {"disabled_at": hotline.clock.now()})
        uow.commit()
    assert [name for name, _ in said] == []  # ended at the next turn, not after 30 s
    assert web.app.extensions["ivr.event_gate"].open == 0
