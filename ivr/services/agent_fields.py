"""What an agent's administrative fields may be, checked before anything is stored: a
username of 2 to 40 lower-case letters, digits, ``.``, ``_`` or ``-``, starting with a
letter; a name; a role; skills among the flow's queue skills and languages among the
flow's (``Choices``); an endpoint a plain PJSIP name (it is written into Asterisk's
configuration and dialled); a password of ``MIN_PASSWORD`` to ``MAX_PASSWORD`` characters,
or one generated. A bad value is ``AdminRefused`` (400) naming the field."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ivr.errors import IvrError
from ivr.services.contact_agents import AGENT, SUPERVISOR

if TYPE_CHECKING:
    from ivr.flow.model import Flow

ROLES = (AGENT, SUPERVISOR)
USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,39}")
ENDPOINT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
NAME_LIMIT = 120
MIN_PASSWORD = 12
MAX_PASSWORD = 256


@dataclass
class AdminRefused(IvrError):
    """Refused: ``status`` 400 (bad input; ``where`` names the field), 404 (no such
    agent) or 409 (taken, the last supervisor, oneself)."""

    status: int
    message: str
    where: str | None = None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Choices:
    """The skills and languages an agent may have: the flow's queue skills and languages."""

    skills: frozenset[str]
    languages: frozenset[str]


def choices(flow: Flow) -> Choices:
    """What ``flow`` allows: its queues' skills, its languages."""
    return Choices(frozenset(q.skill for q in flow.queues.values()), frozenset(flow.languages))


def username(value: object) -> str:
    if not isinstance(value, str) or not USERNAME.fullmatch(value):
        raise AdminRefused(
            400,
            "username: 2 to 40 lower-case letters, digits, '.', '_' or '-', starting with a letter",
            "username",
        )
    return value


def fields(choices: Choices, values: Mapping[str, Any], partial: bool) -> dict[str, Any]:
    """The checked name, role, skills, languages and endpoint ``values`` has (all of
    them unless ``partial``)."""
    checks = {
        "name": _name,
        "role": _role,
        "skills": lambda v: _among(v, choices.skills, "skills", "skill"),
        "languages": lambda v: _among(v, choices.languages, "languages", "language"),
        "endpoint": _endpoint,
    }
    out: dict[str, Any] = {}
    for field, check in checks.items():
        if field in values:
            out[field] = check(values[field])
        elif not partial:
            raise AdminRefused(400, f"{field} is required", field)
    return out


def _name(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > NAME_LIMIT or not text.isprintable():
        raise AdminRefused(400, f"name: 1 to {NAME_LIMIT} printable characters", "name")
    return text


def _role(value: object) -> str:
    if value not in ROLES:
        raise AdminRefused(400, f"role must be one of {', '.join(ROLES)}, not {value!r}", "role")
    return str(value)


def _among(value: object, allowed: frozenset[str], field: str, what: str) -> frozenset[str]:
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(items, list | tuple | set | frozenset) or not items:
        raise AdminRefused(400, f"{field}: at least one {what}", field)
    unknown = sorted({str(i) for i in items} - allowed)
    if unknown:
        known = ", ".join(sorted(allowed))
        raise AdminRefused(400, f"{field}: unknown {what} {unknown[0]!r} (one of {known})", field)
    return frozenset(str(i) for i in items)


def _endpoint(value: object) -> str:
    if not isinstance(value, str) or not ENDPOINT.fullmatch(value):
        raise AdminRefused(
            400, "endpoint: a PJSIP name of 1 to 40 letters, digits, '.', '_' or '-'", "endpoint"
        )
    return value


def password(value: object) -> tuple[str, bool]:
    """The password to set and whether it was generated (None or "": generate one)."""
    if value is None or value == "":
        return secrets.token_urlsafe(12), True
    if not isinstance(value, str) or not MIN_PASSWORD <= len(value) <= MAX_PASSWORD:
        raise AdminRefused(
            400, f"password: {MIN_PASSWORD} to {MAX_PASSWORD} characters", "password"
        )
    return value, False
