"""A picture of the call tree: Mermaid (renders in Markdown viewers) or Graphviz DOT.

Given each node's traffic over a period (``NodeTraffic``, from a report), every node also
says how many calls entered it, how many hung up there (and what share) and how many went
to a person from there, and is filled by its drop-off (``DROP_LEVELS``): an admin sees at a
glance where callers leave."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ivr.flow import model


@dataclass(frozen=True)
class NodeTraffic:
    """One node's calls over a period: entered, hung up there, went to a person from it."""

    entered: int
    hung_up: int
    to_person: int

    @property
    def drop_rate(self) -> float | None:
        return self.hung_up / self.entered if self.entered else None


#: ``(lowest drop-off, level, fill)``, highest first: a node's level is the first it reaches.
DROP_LEVELS = (
    (0.15, "drop_high", "#f4b6ae"),
    (0.05, "drop_some", "#fbe3a4"),
    (0.0, "drop_low", "#cdebd3"),
)
#: A node no call entered in the period.
QUIET = ("quiet", "#eeeeee")

Traffic = Mapping[str, NodeTraffic]


def drop_level(traffic: NodeTraffic | None) -> tuple[str, str]:
    """``(level, fill)`` of a node with this traffic (``QUIET`` when nobody entered)."""
    rate = traffic.drop_rate if traffic is not None else None
    if rate is None:
        return QUIET
    return next((name, fill) for least, name, fill in DROP_LEVELS if rate >= least)


def traffic_text(traffic: NodeTraffic | None) -> str:
    """``120 in, 12 hung up (10.0%), 30 to a person`` (``0 in`` when nobody entered)."""
    if traffic is None or not traffic.entered:
        return "0 in"
    text = f"{traffic.entered} in, {traffic.hung_up} hung up ({traffic.drop_rate:.1%})"
    return text + (f", {traffic.to_person} to a person" if traffic.to_person else "")


#: The caption of a diagram with traffic.
LEGEND = (
    "calls in, hung up there (share), to a person; fill: red 15% or more hung up, "
    "amber 5% or more, green less, grey no calls"
)


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


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


def mermaid(flow: model.Flow, traffic: Traffic | None = None) -> str:
    """The call tree in Mermaid; with ``traffic``, each node's figures and drop-off fill."""
    lines = ["flowchart TD"]
    for node in flow.nodes.values():
        kind = _kind(node)
        left, right = _SHAPES.get(kind, ('["', '"]'))
        figures = "" if traffic is None else f"<br/>{traffic_text(traffic.get(node.id))}"
        lines.append(f"  {_safe(node.id)}{left}{node.id}<br/><i>{kind}</i>{figures}{right}")
    for node in flow.nodes.values():
        for label, target in node.edges():
            text = label.replace('"', "'")
            lines.append(f'  {_safe(node.id)} -->|"{text}"| {_safe(target)}')
    lines.append(f"  classDef start stroke-width:3px\n  class {_safe(flow.start)} start")
    if traffic is not None:
        lines.extend(_mermaid_levels(flow, traffic))
    return "\n".join(lines) + "\n"


def _mermaid_levels(flow: model.Flow, traffic: Traffic) -> list[str]:
    levels: dict[str, list[str]] = {}
    for node in flow.nodes.values():
        levels.setdefault(drop_level(traffic.get(node.id))[0], []).append(_safe(node.id))
    lines = [f"  classDef {name} fill:{fill}" for _, name, fill in DROP_LEVELS]
    lines.append(f"  classDef {QUIET[0]} fill:{QUIET[1]}")
    lines.extend(f"  class {','.join(ids)} {name}" for name, ids in levels.items())
    return lines


def dot(flow: model.Flow, traffic: Traffic | None = None) -> str:
    """The call tree in Graphviz DOT; with ``traffic``, each node's figures and drop-off
    fill, and a caption saying how to read them."""
    lines = ["digraph hotline {", "  rankdir=TB; node [fontname=sans, shape=box];"]
    if traffic is not None:
        lines.append(f'  labelloc=t; fontname=sans; label="{_dot_text(LEGEND)}";')
    ends = {"queue", "transfer", "hangup"}
    for node in flow.nodes.values():
        kind = _kind(node)
        shape = "ellipse" if kind in ends else "diamond" if kind in ("branch", "hours") else "box"
        bold = ", penwidth=3" if node.id == flow.start else ""
        label, fill = f"{node.id}\\n({kind})", ""
        if traffic is not None:
            figures = traffic.get(node.id)
            label += "\\n" + _dot_text(traffic_text(figures))
            fill = f', style=filled, fillcolor="{drop_level(figures)[1]}"'
        lines.append(f'  "{node.id}" [label="{label}", shape={shape}{fill}{bold}];')
    for node in flow.nodes.values():
        for label, target in node.edges():
            lines.append(f'  "{node.id}" -> "{target}" [label="{label}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
