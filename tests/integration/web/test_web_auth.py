"""Signing in and out of the agent console, CSRF, and who may see the supervisor view;
Flask's test client on a real seeded database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from integration.web_client import Web
from ivr.app.bootstrap import Components


@pytest.fixture
def web(hotline: Components) -> Web:
    return Web(hotline)


def test_the_console_asks_for_a_sign_in_first(web: Web) -> None:
    response = web.client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/"
    page = web.client.get("/login").get_data(as_text=True)
    assert '<label for="username">Username</label>' in page
    assert '<label for="password">Password</label>' in page


def test_a_good_password_opens_the_console(web: Web) -> None:
    response = web.sign_in("alice")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = web.client.get("/")
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    text = page.get_data(as_text=True)
    assert "<h1>Agent console: " in text
    assert 'id="queue-summary" role="status" aria-live="polite"' in text


def test_the_session_cookie_is_http_only_and_same_site(web: Web) -> None:
    response = web.sign_in("alice")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("ivr_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize(("username", "password"), [("alice", "wrong"), ("nobody", "alice-demo")])
def test_a_bad_password_or_unknown_agent_is_refused_alike(
    web: Web, username: str, password: str
) -> None:
    web.fetch_token()
    response = web.client.post(
        "/login", data={"csrf_token": web.token, "username": username, "password": password}
    )
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)
    assert web.client.get("/").status_code == 302  # still signed out


def test_signing_in_without_the_csrf_token_is_refused(web: Web) -> None:
    web.client.get("/login")
    response = web.client.post("/login", data={"username": "alice", "password": "alice-demo"})
    assert response.status_code == 403
    assert "CSRF" in response.get_data(as_text=True)


def test_a_form_without_the_csrf_token_changes_nothing(web: Web) -> None:
    web.sign_in("alice")
    response = web.client.post("/availability", data={"state": "available"})
    assert response.status_code == 403
    response = web.client.post("/availability", data={"state": "available", "csrf_token": "forged"})
    assert response.status_code == 403
    assert web.agent_state("alice") == "offline"


def test_after_signing_in_only_a_path_on_this_site_is_followed(web: Web) -> None:
    web.fetch_token()
    data = {"csrf_token": web.token, "username": "alice", "password": "alice-demo"}
    response = web.client.post("/login", data={**data, "next": "//elsewhere.example/"})
    assert response.headers["Location"] == "/"
    web.client.get("/login")  # signed in already; a new sign-in
    web.fetch_token()
    data["csrf_token"] = web.token
    response = web.client.post("/login", data={**data, "next": "/supervisor/"})
    assert response.headers["Location"] == "/supervisor/"


def test_an_agent_cannot_see_the_supervisor_view(web: Web) -> None:
    web.sign_in("alice")
    response = web.client.get("/supervisor/")
    assert response.status_code == 403
    assert "for supervisors" in response.get_data(as_text=True)
    assert "/supervisor/" not in web.client.get("/").get_data(as_text=True)


def test_a_supervisor_sees_every_queue_and_agent(web: Web) -> None:
    web.sign_in("sam")
    response = web.client.get("/supervisor/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Supervisor view</h1>" in page
    for queue in ("security", "payments", "closure", "general"):
        assert f'<th scope="row">{queue}</th>' in page
    for username in ("alice", "bob", "chen", "sam"):
        assert f"({username})</th>" in page


def test_signing_out_ends_the_session_and_availability(web: Web) -> None:
    web.sign_in("alice")
    web.form("/availability", state="available")
    assert web.agent_state("alice") == "available"
    response = web.form("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert web.agent_state("alice") == "offline"
    assert web.client.get("/").status_code == 302
    assert web.client.get("/api/queue").status_code == 401
