"""What a request reaches the product through: the ``Hotline`` the app was made with, its
``ContactCenter`` and clock, and the agent who is signed in (``g.agent``)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app, g

if TYPE_CHECKING:
    from ivr.app.bootstrap import Hotline
    from ivr.services.contact_center import ContactCenter
    from ivr.services.contact_ports import Agent

HOTLINE = "ivr.hotline"


def hotline() -> Hotline:
    found: Hotline = current_app.extensions[HOTLINE]
    return found


def center() -> ContactCenter:
    return hotline().contact_center


def now() -> datetime:
    return hotline().clock.now()


def signed_in() -> Agent | None:
    """The agent this request acts for, or None."""
    agent: Agent | None = g.get("agent")
    return agent
