"""The agent console's pages and forms with Flask's test client on a real seeded
database: availability, the screen pop, notes and disposition, the queue, callbacks."""

from __future__ import annotations

import html
import re
from zoneinfo import ZoneInfo

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
    assert '<td data-label="Queue">payments</td><td data-label="Priority">5</td>' in text
    assert '<td data-label="Caller">+8613800138001</td><td data-label="Reason">Payment' in text
    assert '<td data-label="Waited">1 min 15 s</td>' in text


def test_the_screen_pop_shows_who_why_and_how(web: Web, clock: StoppedClock) -> None:
    path = ("choose_language", "welcome", "main_menu", "payment_intro", "payments_agent")
    entry = web.center.enqueue(caller("pop", "payments", language="zh", path=path))
    clock.advance(seconds=40)
    web.center.place(entry.id)  # its holder is still there (renews the lease)
    web.form("/availability", state="available")
    [assignment] = web.center.dispatch()
    assert assignment.entry.id == entry.id
    text = page(web)
    assert f'id="desk" data-entry="{entry.id}"' in text
    assert '<dd data-field="holder_name">Emma Walker</dd>' in text
    assert '<dd data-field="account_status">Active (no. 10000002)</dd>' in text
    assert '<dd data-field="verification">Verified with account number and PIN.</dd>' in text
    assert '<dd data-field="reason">A failed payment</dd>' in text
    assert '<dd data-field="language">Chinese (中文)</dd>' in text
    assert '<dd data-field="waited_seconds">40 s</dd>' in text
    assert '<dd data-field="kind">The customer called in</dd>' in text
    steps = ("Chose a language", "Heard the welcome", "Main menu", "Chose: a failed payment",
             "Asked for a payments agent")  # fmt: skip
    assert "".join(f"<li>{words}</li>" for words in steps) in text
    pop = text[text.index('id="screen-pop"') : text.index('id="queue-heading"')]
    assert not any(node in pop for node in path if "_" in node)  # no raw node ids
    assert 'data-state="ringing"' in text
    assert "A call is ringing: answer it on your phone." in text
    # Ringing: no end-of-call form yet, and no stale "You are available." banner as status.
    assert '<p id="finish-later" >' in text or '<p id="finish-later">' in text
    assert f'action="/calls/{entry.id}/complete" hidden>' in text


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
    assert '<li><time datetime="' in text  # stamped for the browser to say in local time


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
    number = '<td data-label="Number">+14155550102</td>'
    assert number + '<td data-label="Reason">Account closure' in text
    assert '<td data-label="Expires"><time datetime="' in text and " data-relative>in " in text
    web.form("/availability", state="available")
    web.form(f"/callbacks/{callback.id}/call")
    assert f"Calling back request {callback.id} now." in flashed(web)
    assert web.agent_state("alice") == "ringing"
    web.form(f"/callbacks/{callback.id}/call")
    assert f"Callback {callback.id}: This callback is already ringing at an agent." in flashed(web)
    assert f'action="/callbacks/{callback.id}/call"' not in page(web)


def test_an_agent_pauses_with_a_reason_and_comes_back(web: Web, db: Db) -> None:
    web.form("/availability", state="available")
    web.form("/availability", state="paused", reason="lunch")
    assert "You are paused (lunch)." in flashed(web)
    text = page(web)
    assert "You are paused (lunch): no calls come to you." in text
    assert '<option value="lunch" selected>Lunch</option>' in text
    assert 'id="take-next" class="actions" method="post" action="/claim" ' in text
    assert 'data-states="available wrap_up" hidden>' in text  # no taking callers while paused
    assert web.agent("alice").pause_reason == "lunch"
    assert db.one("audit_log", action="agent_paused")["detail"]["reason"] == "lunch"
    web.form("/availability", state="available")
    assert web.agent_state("alice") == "available"


def test_a_pause_without_a_known_reason_is_said(web: Web) -> None:
    web.form("/availability", state="available")
    web.form("/availability", state="paused", reason="nap")
    assert "reason must be one of break, lunch" in flashed(web)
    assert web.agent_state("alice") == "available"


def test_times_are_in_the_hotline_zone_without_script(web: Web) -> None:
    entry = web.center.enqueue(caller("zone", "general"))
    web.center.request_callback(entry.id, "+14155550102")
    text = page(web)
    zone = web.hotline.flow.timezone
    abbreviation = web.hotline.clock.now().astimezone(ZoneInfo(zone)).strftime("%Z")
    stamp = r"\(\d{4}-\d\d-\d\d \d\d:\d\d "
    assert re.search(r"data-relative>in \d+ (h|days) " + stamp + abbreviation, text)


def test_the_ring_is_a_sound_made_here(web: Web) -> None:
    response = web.client.get("/ring.wav")
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert response.data[:4] == b"RIFF" and response.data[8:12] == b"WAVE"
    assert Web(web.hotline).client.get("/ring.wav").status_code == 302  # signed in only
