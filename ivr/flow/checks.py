"""Checks over a whole compiled flow: targets, reachability, endings, loops, prompts,
use cases and queues. Each finding is reported once, at the place to fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from ivr.errors import SourcePosition
from ivr.flow import model
from ivr.flow.compiler import SourceIndex
from ivr.flow.located import Reader, suggestion
from ivr.flow.prompts import Catalog, placeholders

BUILTIN_DATA = frozenset({"ani", "dnid", "call_id", "language", "verified", "verified_account"})


class FlowChecker:
    """Cross-node checks. Nodes the index marks flawed (they had a problem of their own)
    get the benefit of the doubt, so that one mistake is reported once."""

    def __init__(
        self,
        reader: Reader,
        index: SourceIndex,
        nodes: Mapping[str, model.Node],
        actions: Mapping[str, model.ActionSpec],
    ) -> None:
        self.reader = reader
        self.index = index
        self.nodes = nodes
        self.actions = actions
        self.ids = list(index.nodes)  # every node written, built or not
        self.trapped: set[str] = set()  # nodes from which no call can end

    def _edges(self, node: model.Node) -> list[tuple[str, str]]:
        """Edges whose target was built (dangling ones are reported once, elsewhere)."""
        return [(label, t) for label, t in node.edges() if t in self.nodes]

    def _sound(self, node_id: str) -> bool:
        return node_id in self.nodes and node_id not in self.index.flawed

    def targets(self) -> None:
        for node in self.nodes.values():
            for label, target in node.edges():
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
        close = difflib.get_close_matches(target, self.ids, n=1, cutoff=0.6)
        return close[0] if close else None

    def _next(self, node_id: str) -> list[str]:
        node = self.nodes.get(node_id)
        names = [t for _, t in node.edges()] if node else []
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
        return not named <= {t for _, t in node.edges()}

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
            or any(t not in self.nodes for _, t in self.nodes[nid].edges())
        }
        changed = True
        while changed:
            changed = False
            for nid, node in self.nodes.items():
                if nid not in can_end and any(t in can_end for _, t in self._edges(node)):
                    can_end.add(nid)
                    changed = True
        trapped = [nid for nid in self.ids if nid in reached and nid not in can_end]
        self.trapped = set(trapped)
        reported: set[str] = set()
        for nid in trapped:
            if nid in reported:
                continue
            group = sorted((self.reachable(nid) & set(trapped)) - reported, key=self.ids.index)
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
            return [
                t
                for label, t in node.edges()
                if not (isinstance(node, model.Verify) and label == "retry")
            ]

        graph = {
            nid: [t for t in ways_out(self.nodes[nid]) if t in reached and self._sound(t)]
            for nid in reached
            if self._sound(nid)
        }
        for component in _strongly_connected(graph):
            single = next(iter(component))
            if len(component) == 1 and single not in graph[single]:
                continue
            if component <= self.trapped:
                continue  # already reported: no call there can end
            members = sorted(component, key=self.ids.index)
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

    def secure_digits(self) -> None:
        doubtful = any(
            isinstance(g, model.Gather) and g.next not in self.nodes for g in self.nodes.values()
        )
        for node in self.nodes.values():
            if node.id in self.index.flawed:
                continue
            if isinstance(node, model.Gather) and node.secure:
                following = self.nodes.get(node.next)
                ok = isinstance(following, model.Action) or (
                    isinstance(following, model.Verify) and following.pin == node.save_as
                )
                if following is not None and not ok:
                    self.reader.error(
                        self.index.targets.get((node.id, "next"), node.position),
                        f"secure gather '{node.id}' must go straight to the verify or action "
                        f"node that uses '{node.save_as}' (secure digits are never stored)",
                    )
            if isinstance(node, model.Verify):
                feeders = [
                    g
                    for g in self.nodes.values()
                    if isinstance(g, model.Gather) and g.next == node.id and g.save_as == node.pin
                ]
                fed = any(g.secure or g.id in self.index.flawed for g in feeders)
                if not fed and not doubtful:
                    self.reader.error(
                        node.position,
                        f"verify '{node.id}' reads the PIN from '{node.pin}', but no secure "
                        "gather saving it leads straight here",
                    )

    def registered(self, queues: Iterable[str]) -> None:
        queue_names = set(queues)
        for name, nid, pos in self.index.queues:
            if name and name not in queue_names:
                hint = suggestion(name, queue_names)
                self.reader.error(pos, f"node '{nid}': queue '{name}' is not defined{hint}")
        for name, nid, pos in self.index.actions:
            spec = self.actions.get(name)
            if spec is None:
                hint = suggestion(name, self.actions)
                self.reader.error(pos, f"node '{nid}': '{name}' is not a registered use case{hint}")
                continue
            node = self.nodes.get(nid)
            if not isinstance(node, model.Action):
                continue
            for outcome in node.outcomes:
                if outcome not in spec.outcomes:
                    self.reader.error(
                        self.index.targets.get((nid, f"outcome-key {outcome}"), pos),
                        f"node '{nid}': {name} has no outcome '{outcome}' "
                        f"(it has: {', '.join(sorted(spec.outcomes))})",
                    )
            for outcome in sorted(spec.outcomes - set(node.outcomes)):
                self.reader.error(
                    node.position, f"node '{nid}': outcome '{outcome}' of {name} goes nowhere"
                )

    def data_names(self) -> dict[str, frozenset[str] | None] | None:
        """Every call-data name some node or use case provides, with its fixed values;
        None when that cannot be known (a use case is not registered, a node is flawed)."""
        used = {name for name, _, _ in self.index.actions}
        if used - set(self.actions) or self.index.flawed:
            return None
        names: dict[str, frozenset[str] | None] = dict.fromkeys(BUILTIN_DATA)
        for name in used & set(self.actions):
            names.update(self.actions[name].outputs)
        for node in self.nodes.values():
            names.update(dict.fromkeys(node.set))
            if isinstance(node, model.Gather) and not node.secure:
                names[node.save_as] = None
        return names

    def prompt_uses(self, catalog: Catalog) -> None:
        known = self.data_names()
        for template, nid, pos in self.index.prompts:
            dynamic = placeholders(template)
            if not dynamic:
                self._prompt(template, nid, pos, catalog, known)
                continue
            if known is None:
                continue
            values = known.get(dynamic[0]) if len(dynamic) == 1 else None
            if values is None:
                self.reader.error(
                    pos,
                    f"node '{nid}': prompt id '{template}' may hold only one placeholder, "
                    "naming a use-case value with a fixed set of values",
                )
                continue
            for value in sorted(values):
                expanded = template.replace("{" + dynamic[0] + "}", value)
                self._prompt(expanded, nid, pos, catalog, known, via=template)

    def _prompt(
        self,
        prompt_id: str,
        nid: str,
        pos: SourcePosition,
        catalog: Catalog,
        known: Mapping[str, object] | None,
        via: str = "",
    ) -> None:
        if prompt_id not in catalog:
            hint = suggestion(prompt_id, catalog.texts)
            source = f" (from '{via}')" if via else ""
            self.reader.error(
                pos, f"node '{nid}': prompt '{prompt_id}'{source} is not in the catalog{hint}"
            )
            return
        if known is None:
            return
        for text in catalog.texts[prompt_id].values():
            for name in placeholders(text):
                if name not in known:
                    self.reader.error(
                        pos,
                        f"node '{nid}': prompt '{prompt_id}' says {{{name}}}, "
                        "which no node or use case provides",
                    )
                    return


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
