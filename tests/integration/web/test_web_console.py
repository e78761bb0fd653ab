"""The agent console's pages and forms with Flask's test client on a real seeded
database: availability, the screen pop, notes and disposition, the queue, callbacks."""

from __future__ import annotations

import html

import pytest

from integration.support import Db, StoppedClock
from integration.web_client import Web, caller
from ivr.app.bootstrap import Components


@pytest.fixture
def web(hotline: Components) -> Web:
    web = Web(hotline)
    assert web.sign_in("alice").status_code == 302
    return web


def page(web: Web) -> str:
    response = web.client.get("/")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def flashed(web: Web) -> str:
    """Follow the redirect back to the console; the message it shows."""
    text = page(web)
    start = text.index('<div id="flash"')
    return text[start : text.index("</div>", start)]


def test_availability_toggle(web: Web) -> None:
    assert 'value="available">Go available</button>' in page(web)
    response = web.form("/availability", state="available")
    assert (response.status_code, response.headers["Location"]) == (302, "/")
    assert "You are available." in flashed(web)
    assert web.agent_state("alice") == "available"
    assert 'value="offline">Go offline</button>' in page(web)
    web.form("/availability", state="offline")
    assert web.agent_state("alice") == "offline"


def test_a_bad_state_is_said_on_the_console(web: Web) -> None:
    web.form("/availability", state="asleep")
    assert "state must be one of available, paused, offline, not 'asleep'" in flashed(web)


def test_the_queue_is_listed(web: Web, clock: StoppedClock) -> None:
    web.center.enqueue(caller("c1", "payments", caller_id="+8613800138001", language="zh"))
    clock.advance(seconds=75)
    text = page(web)
    assert "1 waiting or being offered." in text
    assert "<td>payments</td><td>5</td>" in text
    assert "<td>+8613800138001</td><td>Payment failure</td>" in text
    assert "<td>1 min 15 s</td>" in text


def test_the_screen_pop_shows_who_why_and_how(web: Web, clock: StoppedClock) -> None:
    path = ("choose_language", "welcome", "main_menu", "payment_menu", "agent_payments")
    entry = web.center.enqueue(caller("pop", "payments", language="zh", path=path))
    clock.advance(seconds=40)
    web.center.place(entry.id)  # its holder is still there (renews the lease)
    web.form("/availability", state="available")
    [assignment] = web.center.dispatch()
    assert assignment.entry.id == entry.id
    text = page(web)
    assert f'id="desk" data-entry="{entry.id}"' in text
    assert '<dd data-field="account_number">10000002</dd>' in text
    assert '<dd data-field="reason">Payment failure</dd>' in text
    assert '<dd data-field="language">zh</dd>' in text
    assert '<dd data-field="waited_seconds">40 s</dd>' in text
    assert "".join(f"<li>{node}</li>" for node in path) in text
    assert 'data-state="ringing"' in text


def test_notes_and_disposition_at_the_end_of_a_call(web: Web, clock: StoppedClock, db: Db) -> None:
    first = web.center.enqueue(caller("earlier-call", "payments"))
    web.form("/availability", state="available")
    web.center.dispatch()
    web.center.connected(first.id)
    clock.advance(minutes=3)
    web.center.finished(first.id)
    text = page(web)
    assert 'id="wrap-up" >' in text or 'id="wrap-up">' in text  # shown, not hidden
    assert 'data-left="30"' in text
    assert f'action="/calls/{first.id}/complete"' in text
    notes = "用户的卡已过期，已告知更新卡片。"
    response = web.form(f"/calls/{first.id}/complete", disposition="follow_up", notes=notes)
    assert response.status_code == 302
    assert "Saved: follow up." in flashed(web)
    assert db.one("agent_notes", disposition="follow_up")["text"] == notes
    assert web.agent_state("alice") == "available"
    # The same account calls again: the earlier note is on the screen pop, in Chinese.
    second = web.center.enqueue(caller("later-call", "payments"))
    web.center.dispatch()
    text = page(web)
    assert f'data-entry="{second.id}"' in text
    assert f"Follow up: {notes}</li>" in text


def test_a_missing_disposition_is_said_and_nothing_is_saved(
    web: Web, clock: StoppedClock, db: Db
) -> None:
    entry = web.center.enqueue(caller("no-disposition", "general"))
    web.form("/availability", state="available")
    web.center.dispatch()
    web.center.connected(entry.id)
    web.center.finished(entry.id)
    web.form(f"/calls/{entry.id}/complete", disposition="", notes="x")
    assert "disposition must be one of resolved, follow_up" in flashed(web)
    assert db.count("agent_notes") == 0


def test_callbacks_with_call_now(web: Web) -> None:
    entry = web.center.enqueue(caller("callback-please", "general", reason="account_closure"))
    callback, _code = web.center.request_callback(entry.id, "+14155550102")
    text = page(web)
    assert f'action="/callbacks/{callback.id}/call"' in text
    assert "<td>+14155550102</td><td>Account closure</td>" in text
    web.form("/availability", state="available")
    web.form(f"/callbacks/{callback.id}/call")
    assert f"Calling back request {callback.id} now." in flashed(web)
    assert web.agent_state("alice") == "ringing"
    web.form(f"/callbacks/{callback.id}/call")
    assert f"Callback {callback.id}: This callback is already ringing at an agent." in flashed(web)
    assert f'action="/callbacks/{callback.id}/call"' not in page(web)
