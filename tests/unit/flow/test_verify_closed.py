"""A verify node's ``on_closed``: where the owner of a closed account goes (the right PIN
of an account that is closed). Optional: a flow without it sends them to ``on_failure``,
as before the outcome existed. Checked like every other target."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from ivr.errors import FlowErrors
from ivr.flow import nodes
from ivr.flow.engine import Engine
from ivr.flow.events import Digits, Result
from ivr.flow.loader import load_flow
from ivr.flow.model import Flow
from ivr.flow.state import CallStart
from ivr.services.registry import HOTLINE_ACTIONS

PROMPTS = {name: {"en": f"{name} (en)", "zh": f"{name} (zh)"} for name in ("ask", "pin", "no")}
HEADER = """\
version: 1
start: account
languages: [en, zh]
prompts: prompts.yaml
defaults: {language: en, timeout: 3s, retries: 1, invalid_prompt: no, timeout_prompt: no}
nodes:
  account:
    type: gather
    prompt: ask
    min_digits: 2
    max_digits: 2
    save_as: acct
    next: pin
    on_failure: bye
  pin:
    type: gather
    prompt: pin
    min_digits: 4
    max_digits: 4
    save_as: secret
    secure: true
    next: check
    on_failure: bye
  check:
    type: verify
    account: acct
    pin: secret
    attempts: 2
    retry: account
    on_success: yes_you
    on_failure: not_you
    on_locked: locked
{closed}
  yes_you: {type: hangup, outcome: verified}
  not_you: {type: hangup, outcome: not_verified}
  locked: {type: hangup, outcome: locked}
  bye: {type: hangup}
  oops: {type: hangup, outcome: error}
"""
CLOSED_NODE = "  closed_account: {type: hangup, outcome: told_closed}\n"


def load(tmp_path: Path, closed: str) -> Flow:
    (tmp_path / "prompts.yaml").write_text(json.dumps(PROMPTS), encoding="utf-8")
    written = textwrap.indent(closed, "    ") if closed else "    on_error: oops"
    text = HEADER.replace("{closed}", written)
    if closed:  # the on_closed line stays where {closed} was; on_error goes before it
        text = text.replace(
            "    on_locked: locked\n", "    on_locked: locked\n    on_error: oops\n"
        )
        text += CLOSED_NODE
    path = tmp_path / "flow.yaml"
    path.write_text(text, encoding="utf-8")
    return load_flow(path, HOTLINE_ACTIONS)


def outcome_of(flow: Flow, result: Result) -> str | None:
    engine = Engine(flow)
    state, _ = engine.start(CallStart("c"))
    for keys in ("12", "1234"):
        state, _ = engine.step(state, Digits(keys))
    state, _ = engine.step(state, result)
    return state.outcome


def test_on_closed_takes_the_owner_of_a_closed_account_there(tmp_path: Path) -> None:
    flow = load(tmp_path, "on_closed: closed_account")

    assert outcome_of(flow, Result("closed")) == "told_closed"
    assert ("on_closed", "closed_account") in flow.nodes["check"].edges()


def test_without_on_closed_a_closed_account_goes_to_on_failure(tmp_path: Path) -> None:
    """An older flow: the caller is routed as before (not verified)."""
    flow = load(tmp_path, "")
    check = flow.nodes["check"]

    assert isinstance(check, nodes.Verify) and check.on_closed == "not_you"
    assert outcome_of(flow, Result("closed")) == "not_verified"
    assert [label for label, _ in check.edges()].count("on_closed") == 0  # no second edge


def test_a_closed_outcome_is_not_a_verification(tmp_path: Path) -> None:
    flow = load(tmp_path, "on_closed: closed_account")
    engine = Engine(flow)
    state, _ = engine.start(CallStart("c"))
    for keys in ("12", "1234"):
        state, _ = engine.step(state, Digits(keys))

    state, _ = engine.step(state, Result("closed"))

    assert "verified" not in state.data and "verified_account" not in state.data
    assert state.attempts == {}  # not a failed try either


def test_on_closed_must_name_a_node(tmp_path: Path) -> None:
    with pytest.raises(FlowErrors) as info:
        load(tmp_path, "on_closed: closed_acount")

    [problem] = info.value.problems
    assert "on_closed goes to 'closed_acount', which is not a node" in problem.message
    assert "did you mean 'closed_account'" in problem.message
    assert problem.position.line == HEADER.splitlines().index("{closed}") + 2
