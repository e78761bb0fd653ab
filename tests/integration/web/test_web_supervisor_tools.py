"""The supervisor's tools on the web (issue 14), with Flask's test client on a real seeded
database (both backends): landing on the supervisor view, pausing an agent, moving a
waiting caller, each agent's current call, and administering agents through the pages and
the API; and the refusals: agents get 403, bad input 400 with the field, a wrong CSRF
token 403, a database that is away a 503 page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from outage import Outage

from integration.support import Db, StoppedClock
from integration.web_client import Web, basic, caller
from ivr.app.bootstrap import Components


@pytest.fixture
def web(hotline: Components) -> Web:
    return Web(hotline)


@pytest.fixture
def sam(web: Web) -> Web:
    assert web.sign_in("sam").status_code == 302
    return web


def agent_id(web: Web, username: str) -> int:
    return int(web.agent(username).id)


def test_a_supervisor_lands_on_the_supervisor_view_unless_next_says_otherwise(web: Web) -> None:
    response = web.sign_in("sam")
    assert response.headers["Location"] == "/supervisor/"
    other = Web(web.hotline)
    assert other.sign_in("alice").headers["Location"] == "/"
    third = Web(web.hotline)
    third.fetch_token()
    response = third.client.post(
        "/login?next=/reports/",
        data={"csrf_token": third.token, "username": "sam", "password": "sam-demo"},
    )
    assert response.headers["Location"] == "/reports/"
    page = web.client.get("/supervisor/").get_data(as_text=True)
    assert 'href="/">Agent console</a>' in page and 'href="/supervisor/agents/"' in page


def test_the_api_pauses_an_agent_with_a_reason(sam: Web, db: Db) -> None:
    bob = agent_id(sam, "bob")
    sam.api("POST", "/api/state", {"state": "available"}, headers=basic("bob"))
    forged = sam.client.post(f"/api/agents/{bob}/pause", json={"reason": "coaching"})
    assert forged.status_code == 403 and forged.json is not None
    assert forged.json["where"] == "X-CSRF-Token" and sam.agent_state("bob") == "available"
    response = sam.api("POST", f"/api/agents/{bob}/pause", {"reason": "coaching"})
    assert response.status_code == 200, response.json
    assert response.json is not None
    assert response.json["agent"]["state"] == "paused"
    assert response.json["agent"]["pause_reason"] == "coaching"
    assert db.one("audit_log", action="agent_forced_pause")["detail"]["by"] == "agent:sam"
    bad = sam.api("POST", f"/api/agents/{bob}/pause", {"reason": "nap"})
    assert bad.status_code == 400 and bad.json is not None and bad.json["where"] == "reason"
    assert sam.api("POST", "/api/agents/9999/pause", {"reason": "break"}).status_code == 404


def test_agents_get_403_from_every_supervisor_route(web: Web) -> None:
    alice = basic("alice")
    for method, path, body in (
        ("POST", "/api/agents/2/pause", {"reason": "break"}),
        ("POST", "/api/queue/1/move", {"queue": "security"}),
        ("POST", "/api/agents", {}),
        ("PATCH", "/api/agents/2", {"name": "X"}),
        ("POST", "/api/agents/2/disable", None),
        ("POST", "/api/agents/2/reset-password", None),
        ("GET", "/api/agents", None),
    ):
        response = web.client.open(path, method=method, json=body, headers=alice)
        assert response.status_code == 403, (method, path)
    assert web.sign_in("alice").status_code == 302
    assert web.client.get("/supervisor/agents/").status_code == 403
    assert web.form("/supervisor/agents/new", username="x").status_code == 403


def test_a_waiting_caller_is_moved_and_an_unknown_queue_is_a_400_with_the_field(
    sam: Web, db: Db
) -> None:
    entry = sam.center.enqueue(caller("call-move", "general"))
    unknown = sam.api("POST", f"/api/queue/{entry.id}/move", {"queue": "refunds"})
    assert unknown.status_code == 400 and unknown.json is not None
    assert unknown.json["where"] == "queue" and "security" in unknown.json["message"]
    moved = sam.api("POST", f"/api/queue/{entry.id}/move", {"queue": "security"})
    assert moved.status_code == 200 and moved.json is not None
    assert moved.json["entry"]["queue"] == "security"
    assert moved.json["entry"]["skill"] == "security" and moved.json["entry"]["priority"] == 10
    again = sam.api("POST", f"/api/queue/{entry.id}/move", {"queue": "security"})
    assert again.status_code == 409
    assert sam.api("POST", "/api/queue/9999/move", {"queue": "general"}).status_code == 404
    # by the form in the supervisor view
    page = sam.client.get("/supervisor/").get_data(as_text=True)
    assert f'action="/supervisor/queue/{entry.id}/move"' in page
    sam.form(f"/supervisor/queue/{entry.id}/move", queue="closure")
    assert sam.center.entry(entry.id).queue == "closure"
    assert db.count("audit_log", action="queue_moved") == 2


def test_the_agents_list_shows_the_current_call_and_no_invented_handle_time(
    sam: Web, clock: StoppedClock
) -> None:
    entry = sam.center.enqueue(caller("call-now", "general", caller_id="+14155550177"))
    sam.api("POST", "/api/state", {"state": "available"}, headers=basic("bob"))
    sam.center.dispatch()
    clock.advance(seconds=4)
    sam.center.connected(entry.id)
    clock.advance(seconds=7)
    agents = sam.client.get("/api/agents").json
    assert agents is not None
    [bob] = [a for a in agents["agents"] if a["username"] == "bob"]
    assert bob["call"]["caller"] == "+14155550177" and bob["call"]["queue"] == "general"
    assert (bob["call"]["state"], bob["call"]["seconds"], bob["seconds_in_state"]) == (
        "connected", 7, 7
    )  # fmt: skip
    [alice] = [a for a in agents["agents"] if a["username"] == "alice"]
    assert alice["call"] is None
    stats = sam.client.get("/api/stats").json
    assert stats is not None and stats["queues"]["security"]["aht_seconds"] is None
    page = sam.client.get("/supervisor/").get_data(as_text=True)
    assert "no data yet" in page and "+14155550177 · general" in page
    assert 'class="ticking" data-seconds="7"' in page


def test_a_supervisor_creates_an_agent_through_the_api_who_then_signs_in(sam: Web, db: Db) -> None:
    body = {"username": "erin", "name": "Erin Li", "role": "agent", "skills": ["general"],
            "languages": ["zh"], "endpoint": "agent-erin"}  # fmt: skip
    created = sam.api("POST", "/api/agents", body)
    assert created.status_code == 201 and created.json is not None
    password = created.json["password"]
    assert created.json["agent"]["username"] == "erin"
    taken = sam.api("POST", "/api/agents", body)
    assert taken.status_code == 409 and taken.json is not None
    assert "taken" in taken.json["message"]
    missing = sam.api("POST", "/api/agents", {**body, "username": "frank", "endpoint": None})
    assert missing.status_code == 400 and missing.json is not None
    assert missing.json["where"] == "endpoint"
    erin = created.json["agent"]["id"]
    edited = sam.api("PATCH", f"/api/agents/{erin}", {"skills": ["general", "payments"]})
    assert edited.status_code == 200 and edited.json is not None
    assert edited.json["agent"]["skills"] == ["general", "payments"]
    other = Web(sam.hotline)
    other.sign_in("alice")  # any browser; erin's password is not a demo one
    response = other.client.get("/api/me", headers={"Authorization": _basic("erin", password)})
    assert response.status_code == 200
    reset = sam.api("POST", f"/api/agents/{erin}/reset-password")
    assert reset.status_code == 200 and reset.json is not None
    assert reset.json["password"] != password
    chosen = sam.api("POST", f"/api/agents/{erin}/reset-password", {"password": "twelve chars!"})
    assert chosen.status_code == 200 and chosen.json is not None and "password" not in chosen.json
    assert password not in db.dump() and "twelve chars!" not in db.dump()


def _basic(username: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_disabling_an_agent_ends_their_session_and_the_last_supervisor_stays(
    sam: Web, db: Db
) -> None:
    bob = Web(sam.hotline)
    assert bob.sign_in("bob").status_code == 302
    assert bob.client.get("/").status_code == 200
    bob_id = agent_id(sam, "bob")
    disabled = sam.api("POST", f"/api/agents/{bob_id}/disable")
    assert disabled.status_code == 200 and disabled.json is not None
    assert disabled.json["agent"]["disabled"] is True
    assert bob.client.get("/").status_code == 302  # signed out
    assert bob.sign_in("bob").status_code == 401
    last = sam.api("POST", f"/api/agents/{agent_id(sam, 'sam')}/disable")
    assert last.status_code == 409 and last.json is not None
    assert "yourself" in last.json["message"]
    assert sam.api("POST", f"/api/agents/{bob_id}/enable").status_code == 200
    assert bob.sign_in("bob").status_code == 302


def test_the_agent_pages_create_edit_and_disable_with_the_csrf_token(sam: Web, db: Db) -> None:
    page = sam.client.get("/supervisor/agents/new").get_data(as_text=True)
    assert 'name="csrf_token"' in page and 'value="security"' in page
    form = {"username": "gus", "name": "Gus Ortiz", "role": "agent", "endpoint": "agent-gus"}
    no_token = sam.client.post("/supervisor/agents/new", data={**form, "skills": "general"})
    assert no_token.status_code == 403 and db.count("agents", username="gus") == 0
    bad = sam.client.post(
        "/supervisor/agents/new",
        data={**form, "csrf_token": sam.token, "skills": "refunds", "languages": "en"},
    )
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "unknown skill" in text and 'value="gus"' in text and 'aria-invalid="true"' not in text
    created = sam.client.post(
        "/supervisor/agents/new",
        data={**form, "csrf_token": sam.token, "skills": ["general", "closure"], "languages": "en"},
    )
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    shown = re.search(
        r'<code id="generated-password">([^<]+)</code>', created.get_data(as_text=True)
    )
    assert shown is not None and sam.center.authenticate("gus", shown.group(1)) is not None
    gus = agent_id(sam, "gus")
    saved = sam.form(f"/supervisor/agents/{gus}", name="Gus O.", role="agent",
                     endpoint="agent-gus", skills="security", languages="zh")  # fmt: skip
    assert saved.status_code == 302
    assert sam.agent("gus").skills == {"security"} and sam.agent("gus").name == "Gus O."
    sam.form(f"/supervisor/agents/{gus}/disable")
    assert sam.agent("gus").disabled
    listing = sam.client.get("/supervisor/agents/").get_data(as_text=True)
    assert "No (disabled)" in listing and "Gus O. (gus)" in listing


def test_a_database_that_goes_away_gives_a_503_page_on_the_agent_pages(
    make_hotline: Callable[..., Components], outage: Outage
) -> None:
    web = Web(make_hotline(outage.url, busy_timeout=1))
    assert web.sign_in("sam").status_code == 302
    outage.cut()
    try:
        response = web.form(
            "/supervisor/agents/new", username="hal", name="Hal", role="agent",
            skills="general", languages="en", endpoint="agent-hal",
        )  # fmt: skip
    finally:
        outage.restore()
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert "database cannot be reached" in text and "Traceback" not in text
