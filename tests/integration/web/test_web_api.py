"""The JSON API (docs/api.md) with Flask's test client on a real seeded database: who may
call it, the queue, claiming the next caller, completing a call, callbacks, and errors."""

from __future__ import annotations

import pytest

from integration.support import Db, StoppedClock
from integration.web_client import Web, basic, caller
from ivr.app.bootstrap import Components


@pytest.fixture
def web(hotline: Components) -> Web:
    return Web(hotline)


@pytest.fixture
def alice(web: Web) -> Web:
    """Signed in as alice (general, payments; en, zh), through the console's session."""
    assert web.sign_in("alice").status_code == 302
    return web


def test_without_credentials_the_api_answers_401_in_json(web: Web) -> None:
    response = web.client.get("/api/queue")
    assert response.status_code == 401
    assert response.json is not None
    assert response.json["error"] == "unauthorized"
    assert "sign in" in response.json["message"]
    assert "WWW-Authenticate" not in response.headers  # a browser is never asked for Basic


def test_wrong_basic_credentials_are_challenged(web: Web) -> None:
    response = web.client.get("/api/me", headers=basic("alice", "nope"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.json == {"error": "unauthorized", "message": "wrong username or password"}


def test_basic_credentials_need_no_csrf_token(web: Web) -> None:
    me = web.client.get("/api/me", headers=basic("chen"))
    assert me.status_code == 200
    assert me.json is not None
    agent = me.json["agent"]
    assert agent["username"] == "chen" and agent["state"] == "offline"
    assert agent["skills"] == ["general", "payments", "security"]
    response = web.client.post("/api/state", json={"state": "available"}, headers=basic("chen"))
    assert response.status_code == 200
    assert web.agent_state("chen") == "available"


def test_a_session_needs_the_csrf_header_to_change_anything(alice: Web) -> None:
    response = alice.client.post("/api/state", json={"state": "available"})
    assert response.status_code == 403
    assert response.json is not None
    assert response.json["error"] == "forbidden"
    assert response.json["where"] == "X-CSRF-Token"
    assert alice.agent_state("alice") == "offline"
    assert alice.api("POST", "/api/state", {"state": "available"}).status_code == 200
    assert alice.agent_state("alice") == "available"
    assert alice.client.get("/api/queue").status_code == 200  # reading needs no token


def test_setting_availability(alice: Web) -> None:
    response = alice.api("POST", "/api/state", {"state": "available"})
    assert response.json is not None
    assert response.json["agent"]["state"] == "available"
    response = alice.api("POST", "/api/state", {"state": "offline"})
    assert response.json is not None
    assert response.json["agent"]["state"] == "offline"


@pytest.mark.parametrize(
    ("body", "where", "says"),
    [
        ({"state": "busy"}, "state", "state must be one of available, paused, offline, not 'busy'"),
        ({}, "state", "not None"),
        (["available"], "body", "send a JSON object"),
    ],
)
def test_bad_input_is_400_with_what_and_where(
    alice: Web, body: object, where: str, says: str
) -> None:
    response = alice.api("POST", "/api/state", body)
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error"] == "bad_request"
    assert response.json["where"] == where
    assert says in response.json["message"]


def test_a_body_that_is_not_json_is_400(alice: Web) -> None:
    response = alice.client.post(
        "/api/state", data="state=available", headers={"X-CSRF-Token": alice.token}
    )
    assert response.status_code == 400
    assert response.json is not None and response.json["where"] == "body"


def test_the_queue_in_dispatch_order(alice: Web, clock: StoppedClock) -> None:
    alice.center.enqueue(caller("c-general", "general", language="zh", reason=None))
    clock.advance(seconds=30)
    alice.center.enqueue(caller("c-security", "security", reason="security"))
    clock.advance(seconds=15)
    response = alice.client.get("/api/queue")
    assert response.status_code == 200
    assert response.json is not None
    assert response.json["count"] == 2
    first, second = response.json["entries"]
    assert (first["call_id"], first["queue"], first["priority"]) == ("c-security", "security", 10)
    assert first["waited_seconds"] == 15 and first["position"] == 1
    assert first["can_take"] is False  # alice has no security skill
    assert (second["call_id"], second["waited_seconds"], second["can_take"]) == (
        "c-general",
        45,
        True,
    )
    assert second["path"] == ["choose_language", "welcome", "main_menu", "agent_general"]
    assert second["estimate_seconds"] > 0


def test_claim_next_gives_the_highest_priority_caller(alice: Web, clock: StoppedClock) -> None:
    alice.center.enqueue(caller("older-general", "general"))
    clock.advance(seconds=60)
    alice.center.enqueue(caller("newer-payments", "payments"))
    clock.advance(seconds=1)
    alice.center.enqueue(caller("security-not-hers", "security"))
    alice.api("POST", "/api/state", {"state": "available"})
    response = alice.api("POST", "/api/queue/claim")
    assert response.status_code == 200
    assert response.json is not None
    assignment = response.json["assignment"]
    assert assignment["entry"]["call_id"] == "newer-payments"
    assert assignment["entry"]["state"] == "offered"
    assert assignment["agent"]["state"] == "ringing"
    desk = alice.client.get("/api/desk").json
    assert desk is not None
    assert desk["entry"]["call_id"] == "newer-payments"
    assert desk["entry"]["account_number"] == "10000002"
    # Ringing already: a second claim is refused.
    again = alice.api("POST", "/api/queue/claim")
    assert again.status_code == 409
    assert again.json is not None and "ringing" in again.json["message"]


def test_claim_with_nobody_waiting_is_404_and_offline_is_409(alice: Web) -> None:
    offline = alice.api("POST", "/api/queue/claim")
    assert offline.status_code == 409
    assert offline.json is not None and "go available first" in offline.json["message"]
    alice.api("POST", "/api/state", {"state": "available"})
    alice.center.enqueue(caller("security-only", "security"))
    nobody = alice.api("POST", "/api/queue/claim")
    assert nobody.status_code == 404
    assert nobody.json is not None and nobody.json["error"] == "not_found"


def _talk(web: Web, clock: StoppedClock, call_id: str) -> int:
    """alice takes a caller, talks for two minutes, and the caller hangs up."""
    entry = web.center.enqueue(caller(call_id, "payments"))
    web.api("POST", "/api/state", {"state": "available"})
    assert web.api("POST", "/api/queue/claim").status_code == 200
    web.center.connected(entry.id)
    clock.advance(minutes=2)
    web.center.finished(entry.id)
    return int(entry.id)


def test_complete_with_a_disposition(alice: Web, clock: StoppedClock, db: Db) -> None:
    entry_id = _talk(alice, clock, "noted-call")
    me = alice.client.get("/api/me").json
    assert me is not None
    assert me["agent"]["state"] == "wrap_up" and me["agent"]["wrap_up_seconds_left"] == 30
    notes = "客户的付款因余额不足失败；已解释。"
    response = alice.api(
        "POST", f"/api/calls/{entry_id}/complete", {"disposition": "resolved", "notes": notes}
    )
    assert response.status_code == 200
    assert response.json is not None
    assert response.json["note"]["disposition"] == "resolved"
    assert response.json["note"]["text"] == notes
    assert notes.encode() in response.data  # UTF-8 as itself, not \\u escapes
    row = db.one("agent_notes", disposition="resolved")
    assert row["text"] == notes
    assert alice.agent_state("alice") == "available"  # wrap-up ended early
    twice = alice.api("POST", f"/api/calls/{entry_id}/complete", {"disposition": "other"})
    assert twice.status_code == 409
    assert twice.json is not None and "already has a disposition" in twice.json["message"]


@pytest.mark.parametrize(
    ("body", "where"),
    [({"disposition": "happy"}, "disposition"), ({"disposition": "resolved", "notes": 5}, "notes")],
)
def test_complete_with_bad_input_is_400(
    alice: Web, clock: StoppedClock, body: dict[str, object], where: str
) -> None:
    entry_id = _talk(alice, clock, "bad-input-call")
    response = alice.api("POST", f"/api/calls/{entry_id}/complete", body)
    assert response.status_code == 400
    assert response.json is not None and response.json["where"] == where
    assert alice.agent_state("alice") == "wrap_up"


def test_complete_someone_elses_call_is_refused(web: Web, clock: StoppedClock) -> None:
    web.sign_in("alice")
    entry_id = _talk(web, clock, "alices-call")
    response = web.client.post(
        f"/api/calls/{entry_id}/complete", json={"disposition": "resolved"}, headers=basic("bob")
    )
    assert response.status_code == 409
    assert response.json is not None and "not this agent's call" in response.json["message"]


def test_call_now_is_refused_the_second_time(web: Web) -> None:
    entry = web.center.enqueue(caller("wants-a-callback", "general"))
    callback, code = web.center.request_callback(entry.id, "+14155550102")
    assert len(code) == 6
    web.sign_in("alice")
    listed = web.client.get("/api/callbacks").json
    assert listed is not None
    [shown] = listed["callbacks"]
    assert (shown["id"], shown["state"], shown["number"]) == (
        callback.id,
        "waiting",
        "+14155550102",
    )
    assert "code" not in shown and "code_hash" not in shown
    web.api("POST", "/api/state", {"state": "available"})
    first = web.api("POST", f"/api/callbacks/{callback.id}/call")
    assert first.status_code == 200
    assert first.json is not None
    assert first.json["assignment"]["entry"]["callback_id"] == callback.id
    bob = basic("bob")
    web.client.post("/api/state", json={"state": "available"}, headers=bob)
    second = web.client.post(f"/api/callbacks/{callback.id}/call", headers=bob)
    assert second.status_code == 409
    assert second.json is not None
    assert second.json["error"] == "refused"
    said = f"Callback {callback.id}: This callback is already ringing at an agent."
    assert second.json["message"] == said  # a sentence, not the service's refusal
    assert web.agent_state("bob") == "available"


def test_call_now_for_an_unknown_callback_is_404(alice: Web) -> None:
    response = alice.api("POST", "/api/callbacks/999999/call")
    assert response.status_code == 404
    assert response.json is not None and response.json["message"] == "no callback 999999"


def test_supervisor_endpoints(web: Web) -> None:
    forbidden = web.client.get("/api/agents", headers=basic("alice"))
    assert forbidden.status_code == 403
    assert forbidden.json == {"error": "forbidden", "message": "for supervisors only"}
    agents = web.client.get("/api/agents", headers=basic("sam")).json
    assert agents is not None
    assert [a["username"] for a in agents["agents"]] == ["alice", "bob", "chen", "sam"]
    stats = web.client.get("/api/stats", headers=basic("sam")).json
    assert stats is not None
    assert list(stats["queues"]) == ["security", "payments", "closure", "general"]
    assert stats["queues"]["general"]["waiting"] == 0


def test_unknown_paths_and_methods_answer_in_json(alice: Web) -> None:
    missing = alice.client.get("/api/nothing-here")
    assert missing.status_code == 404
    assert missing.json is not None and missing.json["error"] == "not_found"
    wrong = alice.client.get("/api/queue/claim")
    assert wrong.status_code == 405
    assert wrong.json is not None and wrong.json["error"] == "method_not_allowed"


def test_an_agent_pauses_with_a_reason_through_the_api(alice: Web) -> None:
    alice.api("POST", "/api/state", {"state": "available"})
    response = alice.api("POST", "/api/state", {"state": "paused", "reason": "training"})
    assert response.status_code == 200 and response.json is not None
    assert response.json["agent"]["state"] == "paused"
    assert response.json["agent"]["pause_reason"] == "training"
    back = alice.api("POST", "/api/state", {"state": "available"})
    assert back.json is not None and back.json["agent"]["pause_reason"] is None


@pytest.mark.parametrize("reason", [None, "nap", 3])
def test_a_pause_needs_a_known_reason(alice: Web, reason: object) -> None:
    response = alice.api("POST", "/api/state", {"state": "paused", "reason": reason})
    assert response.status_code == 400 and response.json is not None
    assert response.json["where"] == "reason"
    assert "reason must be one of break, lunch, training" in response.json["message"]
    assert alice.agent_state("alice") == "offline"


def test_no_pause_on_a_call(alice: Web) -> None:
    entry = alice.center.enqueue(caller("paused-on-call", "general"))
    alice.api("POST", "/api/state", {"state": "available"})
    alice.center.dispatch()
    alice.center.connected(entry.id)
    response = alice.api("POST", "/api/state", {"state": "paused", "reason": "break"})
    assert response.status_code == 409 and response.json is not None
    assert response.json["message"].startswith("cannot pause: ")
    assert alice.agent_state("alice") == "on_call"


def test_the_desk_says_the_call_in_words(alice: Web) -> None:
    entry = alice.center.enqueue(caller("desk-story", "payments", account=None, reason=None))
    alice.api("POST", "/api/state", {"state": "available"})
    alice.center.dispatch()
    desk = alice.client.get("/api/desk").json
    assert desk is not None and desk["entry"]["id"] == entry.id
    assert desk["story"]["holder_name"] is None and desk["story"]["verified"] is False
    assert desk["story"]["path"] == ["Chose a language", "Heard the welcome", "Main menu",
                                     "Agent general"]  # fmt: skip
