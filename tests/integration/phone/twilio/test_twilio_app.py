"""The webhooks run on an app of their own in front of the console's (``ivr.web.phone_app``):
no session cookie, no signed-in agent, no rate limit; the console's request limits and
security headers, and the console's own pages, as before."""

from __future__ import annotations

from flask.testing import FlaskClient

from integration.phone.twilio.test_twilio_voice import Phone, line, twilio_client  # noqa: F401
from integration.support import EMMA
from ivr.app.bootstrap import Components
from ivr.web.headers import HEADERS


def test_a_webhook_sets_no_session_cookie_and_carries_the_security_headers(
    line: Components,  # noqa: F811
) -> None:
    client = twilio_client(line)
    client.set_cookie("ivr_session", "a-console-cookie")
    response = Phone(client, "CA-app", EMMA[2]).send("/twilio/voice")

    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert "Set-Cookie" not in response.headers
    assert all(response.headers.get(name) == value for name, value in HEADERS.items())


def test_a_webhook_too_large_is_refused_as_on_the_console(line: Components) -> None:  # noqa: F811
    client = twilio_client(line)
    response = Phone(client, "CA-big", EMMA[2]).send("/twilio/voice", Pad="x" * 70_000)
    assert response.status_code == 413


def test_the_console_still_answers_beside_the_webhooks(line: Components) -> None:  # noqa: F811
    client: FlaskClient = twilio_client(line)
    assert client.get("/login").status_code == 200
    assert client.get("/twilio-not-a-webhook").status_code == 404
    assert client.get("/twilio/unknown").status_code in (403, 404)
