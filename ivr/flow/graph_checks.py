"""Checks over a whole compiled flow's graph: targets, reachability, endings, loops.
Each finding is reported once, at the place to fix. The names nodes use (queues, use
cases, prompts) are checked in ``name_checks.py``.

Every check costs time in proportion to the nodes and edges (each node's edges are listed
once), so a flow ten times larger takes ten times as long to check."""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Mapping

from ivr.flow import model, nodes
from ivr.flow.compiler import SourceIndex
from ivr.flow.located import Reader, suggestion


class GraphChecker:
    """Cross-node checks of the graph. Nodes the index marks flawed (they had a problem of
    their own) get the benefit of the doubt, so that one mistake is reported once."""

    def __init__(
        self,
        reader: Reader,
        index: SourceIndex,
        nodes: Mapping[str, model.Node],
    ) -> None:
        self.reader = reader
        self.index = index
        self.nodes = nodes
        self.ids = list(index.nodes)  # every node written, built or not
        self.order = {nid: i for i, nid in enumerate(self.ids)}  # where each was written
        self.trapped: set[str] = set()  # nodes from which no call can end
        self.out = {nid: node.edges() for nid, node in nodes.items()}
        self._meant: dict[str, str | None] = {}  # likely() of names that are not nodes

    def _edges(self, node_id: str) -> list[tuple[str, str]]:
        """Edges whose target was built (dangling ones are reported once, elsewhere)."""
        return [(label, t) for label, t in self.out[node_id] if t in self.nodes]

    def _sound(self, node_id: str) -> bool:
        return node_id in self.nodes and node_id not in self.index.flawed

    def targets(self) -> None:
        for node in self.nodes.values():
            for label, target in self.out[node.id]:
                if not target or target in self.index.nodes:
                    continue  # missing (reported as such) or written but broken
                if (node.id, label) in self.index.defaulted:
                    continue  # a bad default is reported once, at defaults
                pos = self.index.targets.get((node.id, label), node.position)
                hint = suggestion(target, self.index.nodes)
                self.reader.error(
                    pos, f"node '{node.id}': {label} goes to '{target}', which is not a node{hint}"
                )

    def likely(self, target: str) -> str | None:
        """The node a target names, or the one a typo probably meant."""
        if target in self.index.nodes:
            return target
        if target not in self._meant:  # a typo is looked up among every node once
            close = difflib.get_close_matches(target, self.ids, n=1, cutoff=0.6)
            self._meant[target] = close[0] if close else None
        return self._meant[target]

    def _next(self, node_id: str) -> list[str]:
        edges = self.out.get(node_id)
        names = [t for _, t in edges] if edges is not None else []
        names += self.index.loose.get(node_id, ())
        return [found for name in names if (found := self.likely(name)) is not None]

    def reachable(self, start: str) -> set[str]:
        first = self.likely(start) if start else None
        seen = {first} if first else set()
        todo = list(seen)
        while todo:
            for target in self._next(todo.pop()):
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    def _uncertain(self, node_id: str) -> bool:
        """True if a flawed node's ways out are not known: it could not be built, or its
        YAML names nodes that none of its edges go to."""
        if node_id not in self.index.flawed:
            return False
        node = self.nodes.get(node_id)
        if node is None:
            return True
        named = {t for t in self.index.loose.get(node_id, ()) if t in self.index.nodes}
        return not named <= {t for _, t in self.out[node_id]}

    def unreachable(self, reached: set[str]) -> None:
        if any(self._uncertain(nid) for nid in reached):
            return  # where a reached node leads is unknown until its own problem is fixed
        lost = [nid for nid in self.ids if nid not in reached]
        fed = {t for nid in lost for t in self._next(nid) if t != nid}
        covered: set[str] = set()
        for root in [n for n in lost if n not in fed] + lost:
            if root in covered:
                continue
            region = self.reachable(root) - reached
            covered |= region
            others = sorted(region - {root})
            named = ", ".join(repr(o) for o in others[:5])
            more = f" and {len(others) - 5} more" if len(others) > 5 else ""
            tail = f" (nor is {named}{more}, reached only from it)"
            self.reader.error(
                self.index.nodes[root],
                f"node '{root}' is never reached from the start" + (tail if others else ""),
            )

    def endings(self, reached: set[str]) -> None:
        """Nodes from which no call can end, one problem per trapped group. A flawed node,
        or one with a dangling target, counts as ending: its own problem is the one."""
        can_end = {
            nid
            for nid in self.ids
            if not self._sound(nid)
            or self.nodes[nid].ends
            or any(t not in self.nodes for _, t in self.out[nid])
        }
        # Then every node with an edge into one that can end, walking the edges backwards.
        into: dict[str, list[str]] = {}
        for nid in self.nodes:
            for _, target in self._edges(nid):
                into.setdefault(target, []).append(nid)
        todo = deque(can_end)
        while todo:
            for source in into.get(todo.popleft(), ()):
                if source not in can_end:
                    can_end.add(source)
                    todo.append(source)
        trapped = [nid for nid in self.ids if nid in reached and nid not in can_end]
        self.trapped = set(trapped)
        reported: set[str] = set()
        for nid in trapped:
            if nid in reported:
                continue
            group = sorted(
                (self.reachable(nid) & self.trapped) - reported, key=self.order.__getitem__
            )
            reported |= set(group)
            names = ", ".join(repr(g) for g in group)
            self.reader.error(
                self.index.nodes[nid],
                f"no call that reaches {names} can ever end "
                "(no way on to a queue, transfer or hangup)",
            )

    def loops(self, reached: set[str]) -> None:
        """Every cycle must be bounded. A node with max_visits bounds the cycles through
        its own ways out; once used up it only passes calls on to on_max_visits, so that
        edge is kept. A verify's retry edge is bounded by its attempts."""

        def ways_out(node: model.Node) -> list[str]:
            if node.max_visits is not None:
                return [node.on_max_visits] if node.on_max_visits else []
            if isinstance(node, nodes.Verify):
                return [t for label, t in self.out[node.id] if label != "retry"]
            return [t for _, t in self.out[node.id]]

        sound = {nid for nid in reached if self._sound(nid)}
        graph = {nid: [t for t in ways_out(self.nodes[nid]) if t in sound] for nid in sound}
        for component in _strongly_connected(graph):
            single = next(iter(component))
            if len(component) == 1 and single not in graph[single]:
                continue
            if component <= self.trapped:
                continue  # already reported: no call there can end
            members = sorted(component, key=self.order.__getitem__)
            spent = [m for m in members if self.nodes[m].max_visits is not None]
            why = (
                f" (once max_visits of {', '.join(repr(m) for m in spent)} is used up, "
                "on_max_visits leads back into the loop)"
                if spent
                else ": give one of them max_visits"
            )
            self.reader.error(
                self.nodes[members[0]].position,
                f"nodes {', '.join(repr(m) for m in members)} form a loop that nothing bounds{why}",
            )


def _strongly_connected(graph: Mapping[str, list[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succ = graph.get(node, [])
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in graph:
                    continue
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                out.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out
