"""`ivr graph`: every node and every way out of it is in the picture."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.app.bootstrap import load_hotline
from ivr.app.cli import main
from ivr.flow import diagram

FLOW = Path(__file__).resolve().parents[3] / "callflows.yaml"


def test_mermaid_names_every_node_and_edge() -> None:
    flow = load_hotline(FLOW)
    text = diagram.mermaid(flow)
    assert text.startswith("flowchart TD\n")
    for node in flow.nodes.values():
        assert f"  {node.id}" in text
        for label, target in node.edges():
            assert f'  {node.id} -->|"{label}"| {target}' in text


def test_dot_names_every_edge() -> None:
    flow = load_hotline(FLOW)
    text = diagram.dot(flow)
    edges = sum(len(n.edges()) for n in flow.nodes.values())
    assert text.count(" -> ") == edges
    assert text.startswith("digraph hotline {") and text.rstrip().endswith("}")


def test_graph_command_prints_the_picture(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", str(FLOW), "--format", "dot"]) == 0
    out = capsys.readouterr().out
    assert '"main_menu" -> "reset_intro" [label="choice 1"];' in out
