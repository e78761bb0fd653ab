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


TRAFFIC = {
    "choose_language": diagram.NodeTraffic(200, 4, 0),  # 2%: low
    "main_menu": diagram.NodeTraffic(180, 18, 9),  # 10%: some
    "ask_pin": diagram.NodeTraffic(40, 8, 0),  # 20%: high
}


def test_mermaid_with_traffic_says_each_nodes_figures_and_colours_its_drop_off() -> None:
    flow = load_hotline(FLOW)
    text = diagram.mermaid(flow, TRAFFIC)
    assert "main_menu<br/><i>menu</i><br/>180 in, 18 hung up (10.0%), 9 to a person" in text
    assert "choose_language<br/><i>language</i><br/>200 in, 4 hung up (2.0%)" in text
    assert "goodbye<br/><i>hangup</i><br/>0 in" in text
    classes = {
        line.split()[-1]: line.split()[1] for line in text.splitlines() if "  class " in line
    }
    assert classes["drop_high"] == "ask_pin"
    assert classes["drop_some"] == "main_menu"
    assert classes["drop_low"] == "choose_language"
    assert "goodbye" in classes["quiet"].split(",")
    assert "classDef drop_high fill:#f4b6ae" in text


def test_dot_with_traffic_fills_nodes_by_drop_off_and_keeps_every_edge() -> None:
    flow = load_hotline(FLOW)
    plain, annotated = diagram.dot(flow), diagram.dot(flow, TRAFFIC)
    assert annotated.count(" -> ") == plain.count(" -> ")
    assert (
        '"ask_pin" [label="ask_pin\\n(gather)\\n40 in, 8 hung up (20.0%)", shape=box, '
        'style=filled, fillcolor="#f4b6ae"];'
    ) in annotated
    assert 'fillcolor="#eeeeee"' in annotated  # nobody entered
    assert 'label="calls in, hung up there' in annotated
    assert "fillcolor" not in plain


def test_drop_levels_at_their_edges() -> None:
    assert diagram.drop_level(None) == diagram.QUIET
    assert diagram.drop_level(diagram.NodeTraffic(0, 0, 0)) == diagram.QUIET
    assert diagram.drop_level(diagram.NodeTraffic(100, 0, 0))[0] == "drop_low"
    assert diagram.drop_level(diagram.NodeTraffic(100, 5, 0))[0] == "drop_some"
    assert diagram.drop_level(diagram.NodeTraffic(100, 15, 0))[0] == "drop_high"


def test_dot_labels_escape_quotes_and_backslashes() -> None:
    assert diagram._dot_text('say "hi" \\ bye') == 'say \\"hi\\" \\\\ bye'
