"""``ivr asterisk-config`` takes the agent phones from the hotline's database (SQLite and
PostgreSQL): the agents' endpoints, skills and languages; the demo phones when it has no
agents; a clear error, not the demo phones, when it cannot be read."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from integration.conftest import hotline_settings
from ivr.app.asterisk_agents import hotline_phones
from ivr.app.bootstrap import bootstrap
from ivr.errors import IvrError
from ivr.services.contact_agents import AGENT


def add_agent(url: str, username: str, skills: set[str], languages: set[str]) -> None:
    hotline = bootstrap(hotline_settings(url))
    with hotline.unit_of_work() as uow:
        uow.agents.add(
            username,
            username.title(),
            "not-a-hash",
            AGENT,
            frozenset(skills),
            frozenset(languages),
            f"agent-{username}",
            datetime(2030, 1, 1, tzinfo=UTC),
        )
        uow.commit()
    hotline.database.dispose()


def test_the_databases_agents_become_the_phones(seeded_url: str) -> None:
    add_agent(seeded_url, "dana", {"security"}, {"zh"})
    phones, source = hotline_phones(hotline_settings(seeded_url))
    assert source == "database"
    dana = next(phone for phone in phones if phone.name == "agent-dana")
    assert (dana.skills, dana.languages) == (frozenset({"security"}), frozenset({"zh"}))
    assert "agent-alice" in [phone.name for phone in phones]  # the seeded demo agents


def test_a_database_without_agents_gives_the_demo_phones(upgraded_url: str) -> None:
    phones, source = hotline_phones(hotline_settings(upgraded_url))
    assert source == "demo"
    assert [phone.name for phone in phones][0] == "agent-alice"


def test_a_database_without_the_schema_is_an_error_naming_the_fix(database_url: str) -> None:
    with pytest.raises(IvrError, match="cannot read the agents from .*--demo-agents"):
        hotline_phones(hotline_settings(database_url))


def test_a_database_that_is_away_is_an_error_not_the_demo_phones(tmp_path: Path) -> None:
    away = "postgresql+psycopg://ivr:secret@127.0.0.1:9/ivr"  # port 9: nothing listens
    with pytest.raises(IvrError, match="cannot read the agents from") as raised:
        hotline_phones(hotline_settings(away))
    assert "secret" not in str(raised.value)  # the URL's password is not shown
