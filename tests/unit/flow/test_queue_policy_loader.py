"""Queue policy in the flow language: ``max_wait``, ``on_max_wait``, ``when_no_agents``,
``announce_every`` and ``ring_timeout`` on ``queues:`` entries (and all but the ring time on
a ``queue`` node), their defaults, and each mistake reported once at FILE:LINE:COL. Uses the
small flow of ``test_loader``."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_loader import REAL_FLOW, write_flow

from ivr.app.bootstrap import load_hotline
from ivr.errors import EngineError
from ivr.flow import actions as act
from ivr.flow import model, nodes
from ivr.flow.engine import Engine
from ivr.flow.events import Digits
from ivr.flow.state import QUEUED, CallStart

QUEUE = "  general: {priority: 1, skill: general}\n"
AGENT = "  agent:\n    type: queue\n    queue: general\n"


def queue_entry(policy: str) -> list[tuple[str, str]]:
    return [(QUEUE, f"  general: {{priority: 1, skill: general, {policy}}}\n")]


def agent_node(lines: str) -> list[tuple[str, str]]:
    return [(AGENT, AGENT + lines)]


def test_a_queue_without_policy_keys_gets_the_defaults(tmp_path: Path) -> None:
    flow = write_flow(tmp_path).load()
    assert flow.queues["general"].policy == model.QueuePolicy()
    node = flow.nodes["agent"]
    assert isinstance(node, nodes.Queue) and node.policy == model.QueuePolicy()
    assert (node.policy.max_wait, node.policy.ring_timeout) == (900.0, 20.0)
    assert node.policy.when_no_agents == "callback" and node.policy.no_agents_node is None


def test_the_queues_policy_is_read_and_inherited_by_its_nodes(tmp_path: Path) -> None:
    keys = "max_wait: 5m, on_max_wait: goodbye, when_no_agents: goodbye, announce_every: 90s"
    flow = write_flow(tmp_path, patch=queue_entry(keys + ", ring_timeout: 30s")).load()
    wanted = model.QueuePolicy(300.0, "goodbye", "goodbye", 90.0, 30.0)
    assert flow.queues["general"].policy == wanted
    assert flow.nodes["agent"].policy == wanted  # type: ignore[attr-defined]
    assert ("on_max_wait", "goodbye") in flow.nodes["agent"].edges()


def test_a_queue_node_overrides_the_queues_policy(tmp_path: Path) -> None:
    flow = write_flow(
        tmp_path,
        patch=queue_entry("max_wait: 5m, when_no_agents: goodbye")
        + agent_node("    max_wait: 2m\n    when_no_agents: callback\n    announce_every: 0s\n"),
    ).load()
    node = flow.nodes["agent"]
    assert isinstance(node, nodes.Queue)
    assert (node.policy.max_wait, node.policy.no_agents_node) == (120.0, None)
    assert node.policy.announce_every == 0.0
    assert flow.queues["general"].policy.no_agents_node == "goodbye"


def test_the_real_hotline_sets_sensible_values() -> None:
    flow = load_hotline(REAL_FLOW)
    for name, spec in flow.queues.items():
        assert 300 <= spec.policy.max_wait <= 1800, name
        assert spec.policy.announce_every >= 60 and spec.policy.ring_timeout == 20, name


def test_the_queues_policy_reaches_the_enqueue_action(tmp_path: Path) -> None:
    straight = [("      9: goodbye\n", "      9: goodbye\n      8: agent\n")]
    files = write_flow(tmp_path, patch=straight + queue_entry("max_wait: 5m"))
    engine = Engine(files.load())
    state, _ = engine.start(CallStart("c1"))
    state, actions = engine.step(state, Digits("8"))
    enqueue = actions[-1]
    assert state.outcome == QUEUED and isinstance(enqueue, act.Enqueue)
    assert enqueue.policy.max_wait == 300.0


# -- mistakes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "needle", "message"),
    [
        (
            "max_wait: soon",
            "soon",
            "'max_wait' in queue 'general': bad duration 'soon': write it like 500ms, 5s, 2m "
            "or 1m30s",
        ),
        ("max_wait: 5s", "5s", "queue 'general': max_wait must be at least 10s"),
        (
            "announce_every: 10s",
            "10s",
            "queue 'general': announce_every must be 0 (off) or at least 20s",
        ),
        ("ring_timeout: 5m", "5m", "queue 'general': ring_timeout must be from 5s to 120s"),
        (
            "on_max_wait: goodby",
            "goodby",
            "queue 'general': on_max_wait goes to 'goodby', which is not a node "
            "(did you mean 'goodbye'?)",
        ),
        (
            "when_no_agents: after_hours",
            "after_hours",
            "queue 'general': when_no_agents goes to 'after_hours', which is not a node "
            "(did you mean 'agent_hours'?)",
        ),
        (
            "max_wiat: 5m",
            "max_wiat",
            "unknown key 'max_wiat' in queue 'general' (did you mean 'max_wait'?)",
        ),
    ],
    ids=[
        "bad-duration",
        "too-short",
        "announce-too-often",
        "ring-too-long",
        "on-max-wait-typo",
        "no-agents-node-missing",
        "unknown-key",
    ],  # fmt: skip
)
def test_a_bad_queue_policy_is_one_problem_at_its_value(
    tmp_path: Path, policy: str, needle: str, message: str
) -> None:
    files = write_flow(tmp_path, patch=queue_entry(policy))
    problem = files.problem()
    where = files.at(policy, plus=policy.index(needle))
    assert (problem.position, problem.message) == (where, message)


def test_a_bad_target_on_a_queue_node_is_reported_at_the_node(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=agent_node("    on_max_wait: nowhere\n"))
    problem = files.problem()
    assert problem.position == files.at("nowhere")
    assert problem.message == "node 'agent': on_max_wait goes to 'nowhere', which is not a node"


def test_the_ring_timeout_is_the_queues_not_a_nodes(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=agent_node("    ring_timeout: 30s\n"))
    problem = files.problem()
    assert problem.position == files.at("ring_timeout")
    assert problem.message.startswith("unknown key 'ring_timeout' in queue node 'agent'")


def test_a_policy_target_that_leads_back_to_the_queue_must_be_bounded(tmp_path: Path) -> None:
    # agent -> (max wait) -> wait_again -> agent: a loop nothing bounds.
    again = "\n  wait_again:\n    type: say\n    prompt: goodbye\n    next: agent\n"
    files = write_flow(tmp_path, patch=agent_node("    on_max_wait: wait_again\n"), add=again)
    problem = files.problem()
    assert "form a loop that nothing bounds" in problem.message
    assert "'agent'" in problem.message and "'wait_again'" in problem.message


# -- the engine goes on at the node the policy names ------------------------------------------


def test_divert_resumes_a_queued_call_at_the_policys_node(tmp_path: Path) -> None:
    straight = [("      9: goodbye\n", "      9: goodbye\n      8: agent\n")]
    files = write_flow(tmp_path, patch=straight + queue_entry("on_max_wait: goodbye"))
    engine = Engine(files.load())
    state, _ = engine.start(CallStart("c1"))
    queued, _ = engine.step(state, Digits("8"))

    state, actions = engine.divert(queued, "goodbye")

    assert actions[-1] == act.Hangup("solved") and state.outcome == "solved"
    assert state.path[-2:] == ("agent", "goodbye")
    with pytest.raises(EngineError):
        engine.divert(queued, "main_menu")  # not a node the queue's policy names
    with pytest.raises(EngineError):
        engine.divert(state, "goodbye")  # not in a queue any more
