"""Issue 10, item 6: no request answers 500. Every route of the app's url_map is hit with
hostile path values, signed in and not; ids out of range, malformed JSON, oversized
bodies and a signed Twilio request without a CallSid get a clear 4xx."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from integration.phone.twilio.test_twilio_voice import twilio_webhooks
from integration.support import Db
from integration.web_client import Web
from ivr.app.bootstrap import Components

TOKEN = "hostile-twilio-token"
BASE = "https://ivr.example.com"
HOSTILE_VALUES = [
    "99999999999999999999999",
    "9223372036854775808",
    "2147483648",
    "-1",
    "0",
    "abc",
    "1.5",
    "%00",
    "%ff",
    "..%2F..%2Fetc%2Fpasswd",
    "x" * 3000,
]

#: Bodies that pass the checks on input, so that the path's values reach the database.
PLAUSIBLE_FORM = {"disposition": "resolved", "notes": "n", "state": "available"}
PLAUSIBLE_JSON = b'{"disposition": "resolved", "notes": "n", "state": "available"}'


@pytest.fixture
def line(hotline: Components) -> Components:
    hotline.settings = replace(hotline.settings, twilio_auth_token=TOKEN, public_url=BASE)
    return hotline


def web_of(line: Components) -> Web:
    """The web app as ``ivr serve`` mounts it: with the Twilio webhooks."""
    return Web(line, (twilio_webhooks(line),))


def _paths(web: Web) -> list[tuple[str, str]]:
    """Every rule of the url_map with each hostile value put in each of its variables."""
    found: dict[tuple[str, str], None] = {}  # each once (a rule without variables too)
    for rule in web.app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for value in HOSTILE_VALUES:
                found[(method, re.sub(r"<[^>]+>", value, rule.rule))] = None
    return sorted(found, key=lambda route: route[1] == "/logout")  # signed out last


def _sweep(web: Web, client: FlaskClient, headers: dict[str, str]) -> list[str]:
    failures = []
    for method, path in _paths(web):
        for body in (None, b"{not json", b"[1, 2]", PLAUSIBLE_JSON):
            response = client.open(
                path,
                method=method,
                data=body,
                content_type="application/json",
                headers={"X-CSRF-Token": web.token, **headers},
            )
            if response.status_code >= 500:
                failures.append(f"{method} {path[:60]} -> {response.status_code}")
        form = {"csrf_token": web.token, **PLAUSIBLE_FORM}
        response = client.open(path, method=method, data=form)
        if response.status_code >= 500:
            failures.append(f"{method} {path[:60]} (form) -> {response.status_code}")
    return failures


def test_no_route_answers_500_to_an_anonymous_client(line: Components) -> None:
    web = web_of(line)
    web.fetch_token()
    assert _sweep(web, web.client, {}) == []


def test_no_route_answers_500_to_a_signed_in_supervisor(line: Components) -> None:
    web = web_of(line)
    web.sign_in("sam")
    assert _sweep(web, web.client, {}) == []


@pytest.mark.parametrize(
    "path",
    [
        "/api/calls/99999999999999999999999/complete",
        "/api/calls/9223372036854775808/complete",
        "/api/callbacks/99999999999999999999999/call",
    ],
)
def test_an_id_out_of_range_is_not_found(line: Components, path: str) -> None:
    web = web_of(line)
    web.sign_in("alice")
    response = web.api("POST", path, {"disposition": "resolved"})
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
    console = web.form(path.removeprefix("/api"), disposition="resolved")
    assert console.status_code == 404


def test_malformed_json_gets_a_clear_400(line: Components) -> None:
    web = web_of(line)
    web.sign_in("alice")
    response = web.client.post(
        "/api/state",
        data=b'{"state": ',
        content_type="application/json",
        headers={"X-CSRF-Token": web.token},
    )
    assert response.status_code == 400
    assert response.get_json()["where"] == "body"


def test_an_oversized_body_is_refused(line: Components) -> None:
    web = web_of(line)
    web.sign_in("alice")
    big = b'{"state": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    response = web.client.post(
        "/api/state",
        data=big,
        content_type="application/json",
        headers={"X-CSRF-Token": web.token},
    )
    assert response.status_code == 413
    assert response.get_json()["error"] == "payload_too_large"
    form = web.client.post("/login", data={"username": "a" * (2 * 1024 * 1024)})
    assert form.status_code == 413


@pytest.mark.parametrize("hook", ["/twilio/voice", "/twilio/gather?step=1", "/twilio/status"])
def test_a_signed_twilio_request_without_a_call_sid_is_refused(
    line: Components, db: Db, hook: str
) -> None:
    client = web_of(line).client
    params = {"From": "+14155550102", "To": "+8610000000", "CallStatus": "completed"}
    signature = RequestValidator(TOKEN).compute_signature(BASE + hook, params)
    response = client.post(hook, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 400
    assert "CallSid" in response.get_data(as_text=True)
    assert db.rows("twilio_calls", order_by="call_sid", call_sid="") == []
    assert db.rows("call_records", call_id="") == []
