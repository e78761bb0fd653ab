"""What a request reaches the product through: the hotline's parts the app was made with
(``WebParts``), its ``ContactCenter`` and clock, and the agent who is signed in
(``g.agent``)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app, g

if TYPE_CHECKING:
    from ivr.services.contact_agents import Agent
    from ivr.services.contact_center import ContactCenter
    from ivr.web.parts import WebParts

HOTLINE = "ivr.hotline"


def hotline() -> WebParts:
    found: WebParts = current_app.extensions[HOTLINE]
    return found


def center() -> ContactCenter:
    return hotline().contact_center


def now() -> datetime:
    return hotline().clock.now()


def signed_in() -> Agent | None:
    """The agent this request acts for, or None."""
    agent: Agent | None = g.get("agent")
    return agent
