"""Administering agents (issue 14) on a real database, both backends: a new agent who can
sign in, bad input refused with the field, a taken username, edits audited with before and
after (never a password), disabling that forces the agent offline mid-call and ends their
sessions, and the last supervisor kept."""

from __future__ import annotations

import pytest

from integration.services.test_contact_store import available, caller, center, ids
from integration.support import Db, StoppedClock
from ivr.app.bootstrap import Components
from ivr.center import lifecycle as lc
from ivr.services import agent_admin
from ivr.services.agent_admin import Actor, AdminRefused, Choices
from ivr.services.contact_center import ContactCenter
from ivr.services.sign_in_ports import SignInRecords

__all__ = ["center", "ids"]  # the fixtures, used by name

CHOICES = Choices(
    frozenset({"general", "payments", "closure", "security"}), frozenset({"en", "zh"})
)
CLI = Actor("cli:tester")
NEW = {
    "username": "dana.k",
    "name": "Dana Kim",
    "role": "agent",
    "skills": ["general", "security"],
    "languages": "en, zh",
    "endpoint": "agent-dana",
}


@pytest.fixture
def records(hotline: Components) -> SignInRecords:
    return hotline.sign_in_records


def sam(ids: dict[str, int]) -> Actor:
    return Actor("agent:sam", ids["sam"])


def test_a_created_agent_signs_in_with_the_generated_password_shown_once(
    center: ContactCenter, db: Db
) -> None:
    agent, password = agent_admin.create(center.context, CHOICES, CLI, NEW)
    assert password is not None and len(password) >= 12
    assert (agent.username, agent.state, agent.disabled) == ("dana.k", lc.OFFLINE, False)
    assert agent.skills == {"general", "security"} and agent.languages == {"en", "zh"}
    assert center.authenticate("dana.k", password) == agent
    row = db.one("audit_log", action="agent_created")
    assert row["actor"] == "cli:tester"
    assert row["detail"]["skills"] == ["general", "security"]
    assert password not in db.dump()  # only its hash is kept


def test_a_chosen_password_is_used_and_never_audited(center: ContactCenter, db: Db) -> None:
    chosen = "correct horse battery"
    agent, password = agent_admin.create(center.context, CHOICES, CLI, {**NEW, "password": chosen})
    assert password is None
    assert center.authenticate(agent.username, chosen) is not None
    assert chosen not in db.dump()


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        ({"username": "Dana"}, "username", "lower-case"),
        ({"username": "d" * 41}, "username", "2 to 40"),
        ({"skills": ["general", "refunds"]}, "skills", "unknown skill 'refunds'"),
        ({"languages": ["fr"]}, "languages", "unknown language 'fr'"),
        ({"languages": []}, "languages", "at least one"),
        ({"endpoint": "agent;dial"}, "endpoint", "PJSIP"),
        ({"role": "admin"}, "role", "one of agent, supervisor"),
        ({"password": "short"}, "password", "12 to"),
        ({"name": "  "}, "name", "printable"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_nothing_is_added(
    center: ContactCenter, db: Db, change: dict[str, object], where: str, says: str
) -> None:
    before = db.count("agents")
    with pytest.raises(AdminRefused) as refused:
        agent_admin.create(center.context, CHOICES, CLI, {**NEW, **change})
    assert (refused.value.status, refused.value.where) == (400, where)
    assert says in refused.value.message
    assert db.count("agents") == before and db.count("audit_log", action="agent_created") == 0


def test_a_taken_username_is_a_clear_conflict(center: ContactCenter) -> None:
    with pytest.raises(AdminRefused) as refused:
        agent_admin.create(center.context, CHOICES, CLI, {**NEW, "username": "alice"})
    assert refused.value.status == 409 and "'alice' is taken" in refused.value.message


def test_an_edit_is_audited_with_before_and_after(
    center: ContactCenter, ids: dict[str, int], db: Db
) -> None:
    changes = {"skills": ["security"], "endpoint": "agent-alice-2", "name": "Alice Martin"}
    edited = agent_admin.edit(center.context, CHOICES, sam(ids), ids["alice"], changes)
    assert edited.skills == {"security"} and edited.endpoint == "agent-alice-2"
    detail = db.one("audit_log", action="agent_edited")["detail"]
    assert detail["before"] == {"skills": ["general", "payments"], "endpoint": "agent-alice"}
    assert detail["after"] == {"skills": ["security"], "endpoint": "agent-alice-2"}
    assert detail["by"] == "agent:sam"
    with pytest.raises(AdminRefused) as refused:
        agent_admin.edit(center.context, CHOICES, sam(ids), ids["alice"], {"state": "available"})
    assert refused.value.where == "state"


def test_disabling_an_agent_on_a_call_ends_it_and_their_sessions(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], records: SignInRecords, db: Db
) -> None:
    bob = ids["bob"]
    records.open_session("bob-session", bob, clock.now())
    waiting = center.enqueue(caller("general"))
    available(center, clock, bob)
    center.dispatch()
    center.connected(waiting.id)
    disabled = agent_admin.set_disabled(center.context, records, sam(ids), bob, True)
    assert (disabled.disabled, disabled.state) == (True, lc.OFFLINE)
    entry = center.entry(waiting.id)
    assert entry is not None and entry.state == lc.DONE
    session = records.session("bob-session")
    assert session is not None and session.ended_at is not None
    assert center.authenticate("bob", "bob-demo") is None
    assert center.set_availability(bob, True).__class__.__name__ == "Refused"
    forced = db.one("audit_log", action="agent_forced_offline")
    assert forced["detail"]["by"] == "agent:sam" and forced["detail"]["entry"] == waiting.id
    assert db.one("audit_log", action="agent_disabled")["actor"] == "agent:sam"
    enabled = agent_admin.set_disabled(center.context, records, sam(ids), bob, False)
    assert not enabled.disabled and center.authenticate("bob", "bob-demo") is not None


def test_a_ringing_offer_goes_back_when_its_agent_is_disabled(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], records: SignInRecords
) -> None:
    waiting = center.enqueue(caller("general"))
    available(center, clock, ids["bob"])
    center.dispatch()
    agent_admin.set_disabled(center.context, records, CLI, ids["bob"], True)
    entry = center.entry(waiting.id)
    assert entry is not None and (entry.state, entry.agent_id) == (lc.WAITING, None)
    assert center.dispatch() == []  # bob is offered nothing more


def test_the_last_supervisor_and_oneself_cannot_be_disabled_or_demoted(
    center: ContactCenter, ids: dict[str, int], records: SignInRecords, db: Db
) -> None:
    with pytest.raises(AdminRefused) as refused:
        agent_admin.set_disabled(center.context, records, CLI, ids["sam"], True)
    assert refused.value.status == 409 and "last enabled supervisor" in refused.value.message
    with pytest.raises(AdminRefused) as refused:
        agent_admin.edit(center.context, CHOICES, CLI, ids["sam"], {"role": "agent"})
    assert "last enabled supervisor" in refused.value.message
    agent_admin.edit(center.context, CHOICES, CLI, ids["chen"], {"role": "supervisor"})
    with pytest.raises(AdminRefused) as refused:
        agent_admin.set_disabled(center.context, records, sam(ids), ids["sam"], True)
    assert "yourself" in refused.value.message
    chen = Actor("agent:chen", ids["chen"])
    assert agent_admin.set_disabled(center.context, records, chen, ids["sam"], True).disabled
    assert db.count("audit_log", action="agent_disabled") == 1


def test_a_password_reset_ends_the_sessions_and_the_old_password(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], records: SignInRecords, db: Db
) -> None:
    records.open_session("alice-session", ids["alice"], clock.now())
    _, password = agent_admin.reset_password(center.context, records, CLI, ids["alice"])
    assert password is not None
    assert center.authenticate("alice", "alice-demo") is None
    assert center.authenticate("alice", password) is not None
    session = records.session("alice-session")
    assert session is not None and session.ended_at is not None
    assert db.one("audit_log", action="agent_password_reset")["detail"] == {
        "agent": "alice", "generated": True, "by": "cli:tester"
    }  # fmt: skip
    with pytest.raises(AdminRefused):
        agent_admin.reset_password(center.context, records, CLI, 999_999, "a long enough one")
