"""Issue 10, item 6: signing in against hostile input. Only same-site paths follow a
sign-in; password guessing is throttled per client and locked out per username (in the
database, by the hotline's clock); signing out ends the session on the server; every
response carries the security headers. Flask's test client on a real seeded database."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from integration.support import Db, StoppedClock
from integration.web_client import Web, basic
from ivr.app.bootstrap import Components
from ivr.web import create_app, guard


@pytest.fixture
def web(hotline: Components) -> Web:
    return Web(hotline)


def _sign_in(web: Web, username: str, password: str, next_: str | None = None) -> str | int:
    """Where a form sign-in goes (its Location), or its status when it does not redirect."""
    web.fetch_token()
    data = {"csrf_token": web.token, "username": username, "password": password}
    if next_ is not None:
        data["next"] = next_
    response = web.client.post("/login", data=data)
    if response.status_code != 302:
        return response.status_code
    return response.headers["Location"]


HOSTILE_NEXT = [
    "//evil.example",
    "//evil.example/console",
    "/%09/evil.example",
    "/\t/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "https://evil.example",
    "https:evil.example",
    "HTTPS://evil.example/",
    "javascript:alert(1)",
    " /console",
    "/console\r\nSet-Cookie: x=1",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "/%2f%2fevil.example",
    "/%252F%252Fevil.example",
    "/%E0%A4%A",
    "/%ff%fe",
    "/" + "a" * 5000,
    "evil.example",
    "",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT, ids=range(len(HOSTILE_NEXT)))
def test_only_a_path_on_this_site_follows_a_sign_in(web: Web, target: str) -> None:
    assert _sign_in(web, "alice", "alice-demo", target) == "/"
    assert web.client.get("/login", query_string={"next": target}).status_code == 200


def test_the_open_redirect_from_the_issue_is_closed(web: Web) -> None:
    page = web.client.get("/login?next=/%09/evil.example").get_data(as_text=True)
    assert "evil.example" not in page
    assert _sign_in(web, "alice", "alice-demo", "/\t/evil.example") == "/"


@pytest.mark.parametrize("target", ["/console?x=1", "/supervisor/", "/?a=b&c=d"])
def test_a_good_next_path_is_still_followed(web: Web, target: str) -> None:
    assert _sign_in(web, "sam", "sam-demo", target) == target


def test_a_username_is_locked_after_repeated_failures_even_with_the_right_password(
    web: Web, clock: StoppedClock
) -> None:
    for _ in range(5):
        assert _sign_in(web, "alice", "wrong") == 401
    web.fetch_token()
    response = web.client.post(
        "/login", data={"csrf_token": web.token, "username": "alice", "password": "alice-demo"}
    )
    assert response.status_code == 429
    text = response.get_data(as_text=True)
    assert "Too many failed sign-ins" in text and "alice-demo" not in text
    assert int(response.headers["Retry-After"]) > 0
    # the API's HTTP Basic meets the same lock
    locked = web.client.get("/api/me", headers=basic("alice"))
    assert locked.status_code == 429
    assert locked.get_json()["error"] == "too_many_requests"
    # another agent is not locked
    assert _sign_in(web, "bob", "bob-demo") == "/"
    clock.advance(minutes=16)  # the injected clock, not the wall clock, ends the lock
    assert _sign_in(web, "alice", "alice-demo") == "/"


def test_an_unknown_username_gets_the_same_answers_as_a_known_one(web: Web) -> None:
    answers = {}
    for username in ("alice", "nobody-here"):
        statuses = [_sign_in(web, username, "wrong") for _ in range(6)]
        web.fetch_token()
        last = web.client.post(
            "/login", data={"csrf_token": web.token, "username": username, "password": "x"}
        )
        answers[username] = (statuses, last.status_code, last.get_data(as_text=True))
    assert answers["alice"][:2] == answers["nobody-here"][:2] == ([401] * 5 + [429], 429)
    assert answers["alice"][2].replace("alice", "") == answers["nobody-here"][2].replace(
        "nobody-here", ""
    )


def test_a_success_resets_the_count_of_failures(web: Web) -> None:
    for _ in range(4):
        assert _sign_in(web, "alice", "wrong") == 401
    assert _sign_in(web, "alice", "alice-demo") == "/"
    for _ in range(4):
        assert _sign_in(web, "alice", "wrong") == 401
    assert _sign_in(web, "alice", "alice-demo") == "/"


def test_failures_are_kept_in_the_database_for_every_process(
    hotline: Components,
    db: Db,
    make_hotline,
    seeded_url: str,
    clock: StoppedClock,  # type: ignore[no-untyped-def]
) -> None:
    first = Web(hotline)
    for _ in range(5):
        assert first.client.get("/api/me", headers=basic("bob", "wrong")).status_code == 401
    rows = db.rows("agent_login_attempts", username="bob")
    assert len(rows) == 5 and not any(r["succeeded"] for r in rows)
    assert "wrong" not in repr(rows)
    second = Web(make_hotline(seeded_url, clock))  # another process, a restart
    assert _sign_in(second, "bob", "bob-demo") == 429


def test_one_client_guessing_many_usernames_is_throttled(web: Web) -> None:
    statuses = [_sign_in(web, f"user{n}", "wrong") for n in range(30)]
    assert statuses[:20] == [401] * 20
    assert set(statuses[20:]) == {429}
    refused = web.client.get("/api/me", headers=basic("alice", "wrong"))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_a_throttled_client_is_refused_before_any_password_is_hashed(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(20):
        _sign_in(web, f"user{n}", "wrong")
    hashed: list[str] = []
    center = web.hotline.contact_center
    real = center.authenticate

    def counting(username: str, password: str):  # type: ignore[no-untyped-def]
        hashed.append(username)
        return real(username, password)

    monkeypatch.setattr(center, "authenticate", counting)
    assert _sign_in(web, "alice", "alice-demo") == 429
    assert web.client.get("/api/me", headers=basic("alice")).status_code == 429
    assert hashed == []


def test_when_every_password_check_is_busy_the_answer_comes_at_once(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    slots = guard.SignInGuard(guard.Limiter(lambda: "client", app=web.app), slots=1).slots
    web.app.extensions[guard.EXTENSION].slots = slots
    assert slots.acquire(blocking=False)  # another request is hashing
    hashed: list[str] = []
    monkeypatch.setattr(web.center, "authenticate", lambda u, p: hashed.append(u))
    response = web.client.get("/api/me", headers=basic("alice"))
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.get_json()["error"] == "busy"
    assert _sign_in(web, "alice", "alice-demo") == 503
    assert hashed == []
    slots.release()
    monkeypatch.undo()
    assert _sign_in(web, "alice", "alice-demo") == "/"


def test_a_copied_session_cookie_stops_working_after_signing_out(web: Web) -> None:
    web.sign_in("alice")
    cookie = web.client.get_cookie("ivr_session")
    assert cookie is not None
    copied = cookie.value
    assert web.form("/logout").status_code == 302
    thief = web.app.test_client()
    thief.set_cookie("ivr_session", copied)
    response = thief.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert thief.get("/api/queue").status_code == 401


def test_a_session_ends_when_idle_and_at_its_absolute_limit(web: Web, clock: StoppedClock) -> None:
    web.sign_in("alice")
    clock.advance(hours=1, minutes=50)
    assert web.client.get("/").status_code == 200
    clock.advance(hours=2, minutes=1)  # idle more than two hours
    assert web.client.get("/").status_code == 302
    web.sign_in("alice")
    for _ in range(6):  # kept busy, but no session lives longer than twelve hours
        clock.advance(hours=1, minutes=55)
        assert web.client.get("/api/queue").status_code == 200
    clock.advance(minutes=40)
    assert web.client.get("/api/queue").status_code == 401


CSP_PARTS = ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'")


@pytest.mark.parametrize("path", ["/login", "/", "/static/style.css", "/api/me", "/nowhere"])
def test_every_response_carries_the_security_headers(web: Web, path: str) -> None:
    response = web.client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert all(part in csp for part in CSP_PARTS), csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")


def test_the_session_cookie_is_secure_behind_an_https_public_url(hotline: Components) -> None:
    hotline.settings = replace(hotline.settings, public_url="https://ivr.example.com")
    web = Web(hotline)
    cookie = web.sign_in("alice").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    hotline.settings = replace(hotline.settings, secure_cookies=False)  # type: ignore[call-arg]
    plain = Web(hotline).sign_in("alice").headers["Set-Cookie"]
    assert "Secure" not in plain


def test_the_session_cookie_can_be_forced_secure(hotline: Components) -> None:
    hotline.settings = replace(hotline.settings, secure_cookies=True)  # type: ignore[call-arg]
    cookie = Web(hotline).sign_in("alice").headers["Set-Cookie"]
    assert "Secure" in cookie
    hotline.settings = replace(hotline.settings, secure_cookies=None)  # type: ignore[call-arg]
    cookie = Web(hotline).sign_in("alice").headers["Set-Cookie"]
    assert "Secure" not in cookie  # http://localhost: not by default


def test_no_template_has_inline_script_or_style(hotline: Components) -> None:
    app = create_app(hotline, {"TESTING": True})
    assert app.template_folder is not None
    folder = Path(app.root_path) / app.template_folder
    for page in folder.glob("*.html"):
        text = page.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), page
        assert not re.search(r"\son[a-z]+\s*=", text), page
        assert not re.search(r"\sstyle\s*=|<style", text), page
