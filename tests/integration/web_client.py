"""The web tests' client: Flask's test client on ``create_app(hotline)``, signed in as a
demo agent, sending the CSRF token the way the console does (form field, header)."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from flask import Blueprint
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ivr.app.bootstrap import Components
from ivr.services.contact_entries import WaitingCall
from ivr.web import create_app

#: The demo agents (``ivr seed --demo``): username -> password.
PASSWORDS = {"alice": "alice-demo", "bob": "bob-demo", "chen": "chen-demo", "sam": "sam-demo"}
TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


def with_test_secret(hotline: Components) -> Components:
    """Callback codes need a secret key: a fixed one, not a file in the working folder."""
    hotline.settings = replace(hotline.settings, secret_key="web-tests-secret")
    return hotline


class Web:
    """One browser's worth of cookies on the app."""

    def __init__(self, hotline: Components, blueprints: Sequence[Blueprint] = ()) -> None:
        """``blueprints``: a phone system's webhooks, mounted beside the console."""
        self.hotline = with_test_secret(hotline)
        self.app = create_app(hotline, {"TESTING": True}, blueprints)
        self.client: FlaskClient = self.app.test_client()
        self.token = ""

    @property
    def center(self) -> Any:
        return self.hotline.contact_center

    def fetch_token(self) -> str:
        page = self.client.get("/login").get_data(as_text=True)
        found = TOKEN.search(page)
        assert found, page
        self.token = found.group(1)
        return self.token

    def sign_in(self, username: str, password: str | None = None) -> TestResponse:
        self.fetch_token()
        response = self.client.post(
            "/login",
            data={
                "csrf_token": self.token,
                "username": username,
                "password": PASSWORDS[username] if password is None else password,
            },
        )
        if response.status_code == 302:  # a new session: a new token
            page = self.client.get("/").get_data(as_text=True)
            found = TOKEN.search(page)
            assert found, page
            self.token = found.group(1)
        return response

    def form(self, path: str, **data: str) -> TestResponse:
        return self.client.post(path, data={"csrf_token": self.token, **data})

    def api(self, method: str, path: str, body: Any = None, **kwargs: Any) -> TestResponse:
        headers = {"X-CSRF-Token": self.token, **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, json=body, headers=headers, **kwargs)

    def agent(self, username: str) -> Any:
        [agent] = [a for a in self.center.agents_view() if a.username == username]
        return agent

    def agent_state(self, username: str) -> str:
        return str(self.agent(username).state)


def basic(username: str, password: str | None = None) -> dict[str, str]:
    secret = f"{username}:{PASSWORDS[username] if password is None else password}"
    return {"Authorization": "Basic " + base64.b64encode(secret.encode()).decode()}


QUEUES = {"security": 10, "payments": 5, "closure": 3, "general": 1}


def caller(
    call_id: str,
    queue: str = "general",
    *,
    language: str = "en",
    account: str | None = "10000002",
    reason: str | None = "payment_failure",
    caller_id: str = "+14155550102",
    path: tuple[str, ...] = ("choose_language", "welcome", "main_menu", "agent_general"),
) -> WaitingCall:
    """A live caller as the phone side enqueues one."""
    return WaitingCall(
        call_id=call_id,
        queue=queue,
        priority=QUEUES[queue],
        skill=queue,
        language=language,
        caller_id=caller_id,
        account_number=account,
        reason=reason,
        path=path,
    )
