"""The agent phones ``ivr asterisk-config`` writes: the hotline's agents from its database
(their endpoint, skills and languages), or the demo agents' when it has none. A disabled
agent gets no endpoint. Passwords are filled in later (``agent_secrets``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from ivr.app.config import Settings
from ivr.errors import IvrError
from ivr.phone.asterisk import config
from ivr.phone.asterisk.agent_secrets import ENDPOINT
from ivr.services.agents_demo import DEMO_AGENTS
from ivr.store.db import redact


class Staff(Protocol):
    """What an agent phone is made from (``contact_agents.Agent``, ``DemoAgent``)."""

    @property
    def endpoint(self) -> str: ...
    @property
    def skills(self) -> frozenset[str]: ...
    @property
    def languages(self) -> frozenset[str]: ...


def phones(staff: Iterable[Staff]) -> list[config.Agent]:
    """One phone per endpoint of the enabled agents (two agents sharing one endpoint share
    its skills and languages), in endpoint order."""
    skills: dict[str, set[str]] = {}
    languages: dict[str, set[str]] = {}
    for person in staff:
        if getattr(person, "disabled", False):
            continue
        if not ENDPOINT.fullmatch(person.endpoint):
            who = getattr(person, "username", person.endpoint)
            raise IvrError(
                f"agent {who}: the endpoint {person.endpoint!r} is not a SIP endpoint name "
                "(letters, digits, '.', '_', '-'); fix it in the agents' settings"
            )
        skills.setdefault(person.endpoint, set()).update(person.skills)
        languages.setdefault(person.endpoint, set()).update(person.languages)
    return [
        config.Agent(name, "", skills=frozenset(skills[name]), languages=frozenset(languages[name]))
        for name in sorted(skills)
    ]


def hotline_phones(settings: Settings, demo: bool = False) -> tuple[list[config.Agent], str]:
    """The agent phones and where they came from (``database`` or ``demo``). A database
    that cannot be read is an error, not the demo agents: real agents would lose their
    endpoints."""
    if demo:
        return phones(DEMO_AGENTS), "demo"
    from ivr.app.bootstrap import bootstrap

    try:
        with bootstrap(settings).unit_of_work() as uow:
            agents = uow.agents.all()
    except (IvrError, SQLAlchemyError) as exc:
        raise IvrError(
            f"cannot read the agents from {redact(settings.database_url)}: "
            f"{str(exc).splitlines()[0]} (--demo-agents writes the demo agents' phones instead)"
        ) from exc
    if not agents:
        return phones(DEMO_AGENTS), "demo"
    return phones(agents), "database"
