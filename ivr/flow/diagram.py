"""A picture of the call tree: Mermaid (renders in Markdown viewers) or Graphviz DOT."""

from __future__ import annotations

import re

from ivr.flow import model

_SHAPES = {
    "menu": ('{{"', '"}}'),
    "gather": ('[/"', '"/]'),
    "language": ('{{"', '"}}'),
    "verify": ('[["', '"]]'),
    "action": ('[["', '"]]'),
    "branch": ('{"', '"}'),
    "hours": ('{"', '"}'),
    "queue": ('(["', '"])'),
    "transfer": ('(["', '"])'),
    "hangup": ('(["', '"])'),
}


def _kind(node: model.Node) -> str:
    return type(node).__name__.lower()


def _safe(node_id: str) -> str:
    return re.sub(r"\W", "_", node_id)


def mermaid(flow: model.Flow) -> str:
    lines = ["flowchart TD"]
    for node in flow.nodes.values():
        kind = _kind(node)
        left, right = _SHAPES.get(kind, ('["', '"]'))
        lines.append(f"  {_safe(node.id)}{left}{node.id}<br/><i>{kind}</i>{right}")
    for node in flow.nodes.values():
        for label, target in node.edges():
            text = label.replace('"', "'")
            lines.append(f'  {_safe(node.id)} -->|"{text}"| {_safe(target)}')
    lines.append(f"  classDef start stroke-width:3px\n  class {_safe(flow.start)} start")
    return "\n".join(lines) + "\n"


def dot(flow: model.Flow) -> str:
    lines = ["digraph hotline {", "  rankdir=TB; node [fontname=sans, shape=box];"]
    ends = {"queue", "transfer", "hangup"}
    for node in flow.nodes.values():
        kind = _kind(node)
        shape = "ellipse" if kind in ends else "diamond" if kind in ("branch", "hours") else "box"
        bold = ", penwidth=3" if node.id == flow.start else ""
        lines.append(f'  "{node.id}" [label="{node.id}\\n({kind})", shape={shape}{bold}];')
    for node in flow.nodes.values():
        for label, target in node.edges():
            lines.append(f'  "{node.id}" -> "{target}" [label="{label}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
