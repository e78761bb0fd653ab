"""Administering agents: create one, change their name, role, skills, languages or
endpoint, disable and enable them, reset a password. The supervisor pages, the API and
``ivr agents`` share these functions over a ``CenterContext``; each is one unit of work
and one audit row (``agent_created``, ``agent_edited``, ``agent_disabled``,
``agent_enabled``, ``agent_password_reset``) naming who did it and what changed, never a
password.

Input is checked by ``ivr.services.agent_fields`` (``AdminRefused`` with the field), and
here that a username is not taken; a password is hashed with werkzeug (scrypt) as the
demo agents' are. With no password given, one is generated and returned once.

Disabling an agent first marks them disabled (so nothing new is offered to them), then
forces them offline as a supervisor would (a ringing offer is withdrawn, a call in
progress is finished) and ends their console sessions. A supervisor cannot disable or
demote themselves, and the last enabled supervisor stays one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ivr.services import agent_desk, agent_fields, ports
from ivr.services.agent_fields import ROLES, AdminRefused, Choices, choices
from ivr.services.contact_agents import SUPERVISOR, Agent
from ivr.services.contact_context import CenterContext
from ivr.services.contact_entries import Refused
from ivr.services.sign_in_ports import SignInRecords

__all__ = [
    "ROLES", "Actor", "AdminRefused", "Choices", "choices", "create", "edit", "find",
    "reset_password", "set_disabled",
]  # fmt: skip

#: What ``edit`` changes (the password has its own ``reset_password``).
EDITABLE = ("name", "role", "skills", "languages", "endpoint")


@dataclass(frozen=True)
class Actor:
    """Who administers: ``name`` as the audit log says it (``agent:<username>``,
    ``cli:<os user>``) and, for a supervisor, their agent id."""

    name: str
    agent_id: int | None = None


def create(
    ctx: CenterContext, choices: Choices, actor: Actor, values: Mapping[str, Any]
) -> tuple[Agent, str | None]:
    """A new agent, offline; with the generated password when ``values`` has none."""
    username = agent_fields.username(values.get("username"))
    fields = agent_fields.fields(choices, values, partial=False)
    password, generated = agent_fields.password(values.get("password"))
    hashed = _hash(password)  # slow (scrypt): before the transaction, never inside it
    with ctx.unit_of_work() as uow:
        if uow.agents.by_username(username) is not None:
            raise AdminRefused(409, f"the username {username!r} is taken", "username")
        agent = uow.agents.add(
            username, fields["name"], hashed, fields["role"], fields["skills"],
            fields["languages"], fields["endpoint"], ctx.clock.now(),
        )  # fmt: skip
        detail = {"agent": username, **_shown(fields), "by": actor.name}
        _audit(uow, ctx, actor, "agent_created", detail)
        uow.commit()
        return agent, password if generated else None


def edit(
    ctx: CenterContext, choices: Choices, actor: Actor, agent_id: int, values: Mapping[str, Any]
) -> Agent:
    """Change the fields ``values`` has (of ``EDITABLE``); audited with before and after."""
    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise AdminRefused(400, f"{unknown[0]} cannot be changed here", unknown[0])
    fields = agent_fields.fields(choices, values, partial=True)
    with ctx.unit_of_work() as uow:
        agent = _locked(uow, agent_id)
        demoted = agent.role == SUPERVISOR and fields.get("role", agent.role) != SUPERVISOR
        if demoted and not agent.disabled:
            _keep_a_supervisor(uow, actor, agent, "no longer a supervisor")
        before = {k: getattr(agent, k) for k in fields}
        changed = {k: v for k, v in fields.items() if before[k] != v}
        if changed:
            uow.agents.edit(agent_id, changed)
            detail = {
                "agent": agent.username,
                "before": _shown({k: before[k] for k in changed}),
                "after": _shown(changed),
                "by": actor.name,
            }
            _audit(uow, ctx, actor, "agent_edited", detail)
            uow.commit()
        return _fresh(uow, agent_id)


def set_disabled(
    ctx: CenterContext, sessions: SignInRecords, actor: Actor, agent_id: int, disabled: bool
) -> Agent:
    """Disable (offline at once, sessions ended) or enable the agent."""
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        agent = _locked(uow, agent_id)
        if agent.disabled == disabled:
            return agent
        if disabled and agent.role == SUPERVISOR:
            _keep_a_supervisor(uow, actor, agent, "disabled")
        uow.agents.edit(agent_id, {"disabled_at": now if disabled else None})
        action = "agent_disabled" if disabled else "agent_enabled"
        detail = {"agent": agent.username, "by": actor.name}
        _audit(uow, ctx, actor, action, detail)
        uow.commit()
    if disabled:
        forced = agent_desk.force_offline(ctx, agent_id, None, actor.name)
        if isinstance(forced, Refused):  # removed meanwhile
            raise AdminRefused(404, f"agent {agent_id}: {forced.reason}")
        sessions.end_sessions_of(agent_id, ctx.clock.now())
    with ctx.unit_of_work() as uow:
        return _fresh(uow, agent_id)


def reset_password(
    ctx: CenterContext,
    sessions: SignInRecords,
    actor: Actor,
    agent_id: int,
    password: object = None,
) -> tuple[Agent, str | None]:
    """A new password (the generated one returned, once, when none is given); the
    agent's console sessions end, so they sign in again with it."""
    chosen, generated = agent_fields.password(password)
    hashed = _hash(chosen)  # slow (scrypt): never while the agent's row is locked
    with ctx.unit_of_work() as uow:
        agent = _locked(uow, agent_id)
        uow.agents.edit(agent_id, {"password_hash": hashed})
        detail = {"agent": agent.username, "generated": generated, "by": actor.name}
        _audit(uow, ctx, actor, "agent_password_reset", detail)
        uow.commit()
    sessions.end_sessions_of(agent_id, ctx.clock.now())
    return agent, chosen if generated else None


def find(ctx: CenterContext, key: str) -> Agent:
    """The agent by id (digits) or username; 404 when there is none."""
    with ctx.unit_of_work() as uow:
        found = uow.agents.get(int(key)) if key.isdigit() else None
        if found is None:
            by_name = uow.agents.by_username(key)
            found = by_name[0] if by_name else None
    if found is None:
        raise AdminRefused(404, f"no agent {key!r}")
    return found


def _hash(password: str) -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(password)


def _locked(uow: ports.UnitOfWork, agent_id: int) -> Agent:
    agent = uow.agents.lock(agent_id)
    if agent is None:
        raise AdminRefused(404, f"no agent {agent_id}")
    return agent


def _fresh(uow: ports.UnitOfWork, agent_id: int) -> Agent:
    agent = uow.agents.get(agent_id)
    assert agent is not None
    return agent


def _keep_a_supervisor(uow: ports.UnitOfWork, actor: Actor, agent: Agent, what: str) -> None:
    """Refuse to leave the center without an enabled supervisor, or a supervisor
    without their own rights. The supervisors are locked (in id order) so two of them
    cannot remove each other at once."""
    if actor.agent_id == agent.id:
        raise AdminRefused(409, f"not done to yourself ({what}): ask another supervisor")
    others = [
        a for a in uow.agents.all() if a.role == SUPERVISOR and a.id != agent.id and not a.disabled
    ]
    for other in sorted(others, key=lambda a: a.id):
        uow.agents.lock(other.id)
    if not others:
        raise AdminRefused(409, f"{agent.name} is the last enabled supervisor: not {what}")


def _audit(
    uow: ports.UnitOfWork, ctx: CenterContext, actor: Actor, action: str, detail: dict[str, Any]
) -> None:
    uow.audit.record(ctx.clock.now(), agent_desk.NO_CALL, None, action, detail, actor.name)


def _shown(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Fields as the audit log keeps them (sets as sorted lists)."""
    return {k: sorted(v) if isinstance(v, frozenset) else v for k, v in fields.items()}
