"""What a node asks of the driver, as actions: its prompts in the caller's language, the
keys to gather, and how a call that reaches the end of the flow leaves it. The engine
decides which node a call is at; this module only turns that node into actions."""

from __future__ import annotations

import re
from dataclasses import replace

from ivr.flow import actions as act
from ivr.flow import model, nodes
from ivr.flow.prompts import fill, placeholders
from ivr.flow.state import QUEUED, TRANSFERRED, CallState

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def prompts_for(flow: model.Flow, state: CallState, ids: tuple[str, ...]) -> tuple[act.Prompt, ...]:
    """The prompts ``ids`` name, filled from the call data, in the caller's language (or
    the flow's default one); a prompt id the flow has no text for is left out."""
    catalog = flow.catalog
    out = []
    for template in ids:
        prompt_id = fill(template, state.data)
        text = catalog.text(prompt_id, state.language)
        if text is None:
            text = catalog.text(prompt_id, flow.default_language)
        if text is None:  # a use case gave a value the flow has no prompt for
            continue
        values = {name: state.data.get(name, "") for name in placeholders(text)}
        out.append(act.Prompt(prompt_id, state.language, fill(text, values), values))
    return tuple(out)


def gather_for(node: nodes.Input, prompts: tuple[act.Prompt, ...]) -> act.Gather:
    """The keys an input node waits for, after ``prompts``."""
    if isinstance(node, nodes.Gather):
        return act.Gather(
            node=node.id,
            prompts=prompts,
            min_digits=node.min_digits,
            max_digits=node.max_digits,
            timeout=node.timeout,
            finish_key=node.finish_key,
            secure=node.secure,
            type_ahead=node.type_ahead,
        )
    if isinstance(node, nodes.Survey):
        return act.Gather(node.id, prompts, 1, 1, node.timeout, type_ahead=node.type_ahead)
    assert isinstance(node, nodes.Menu | nodes.Language)
    width = max(len(k) for k in node.choices)
    return act.Gather(node.id, prompts, 1, width, node.timeout, type_ahead=node.type_ahead)


def end_actions(node: model.Node, state: CallState) -> list[act.Action]:
    """How a call leaves the flow at an ending node (after its prompts)."""
    if isinstance(node, nodes.Queue):
        return [
            act.Enqueue(
                node.queue,
                node.priority,
                node.skill,
                node.callback,
                state.language,
                node.policy,
            )
        ]
    if isinstance(node, nodes.Transfer):
        return [act.Transfer(node.to)]
    if isinstance(node, nodes.Hangup):
        return [act.Hangup(node.outcome)]
    return []


def ended(node: model.Node, state: CallState) -> CallState:
    """The state of a call that left the flow at ``node``, with its outcome."""
    if isinstance(node, nodes.Queue):
        return replace(state, outcome=QUEUED)
    if isinstance(node, nodes.Transfer):
        return replace(state, outcome=TRANSFERRED)
    assert isinstance(node, nodes.Hangup)
    return replace(state, outcome=node.outcome)


def recording_name(state: CallState) -> str:
    """A file-safe name for a recording made at the call's current node, unique in the
    call (the call id, the node and how far the call has come)."""
    raw = f"{state.data.get('call_id', 'call')}-{state.node}-{len(state.path)}"
    return _UNSAFE.sub("_", raw)[-120:]
