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

BUILTIN_DATA = frozenset({"ani", "dnid", "call_id", "language", "verified"})


class FlowChecker:
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

    def _edges(self, node: model.Node) -> list[tuple[str, str]]:
        """Edges whose target exists (dangling ones are reported once, elsewhere)."""
        return [(label, t) for label, t in node.edges() if t in self.nodes]

    def targets(self) -> None:
        for node in self.nodes.values():
            for label, target in node.edges():
                if target in self.nodes:
                    continue
                pos = self.index.targets.get((node.id, label), node.position)
                if not target:
                    continue  # a missing required key: already reported
                hint = suggestion(target, self.nodes)
                self.reader.error(
                    pos, f"node '{node.id}': {label} goes to '{target}', which is not a node{hint}"
                )

    def _likely(self, node: model.Node) -> list[str]:
        """Targets, with a dangling one read as the node it was probably meant to be, so
        that one typo is reported once rather than as a field of unreachable nodes."""
        out = []
        for _, target in node.edges():
            if target in self.nodes:
                out.append(target)
            else:
                out.extend(difflib.get_close_matches(target, list(self.nodes), n=1, cutoff=0.6))
        return out

    def reachable(self, start: str) -> set[str]:
        seen = {start} if start in self.nodes else set()
        todo = list(seen)
        while todo:
            for target in self._likely(self.nodes[todo.pop()]):
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    def unreachable(self, reached: set[str]) -> None:
        lost = [nid for nid in self.nodes if nid not in reached]
        fed = {t for nid in lost for _, t in self._edges(self.nodes[nid]) if t != nid}
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
                self.nodes[root].position,
                f"node '{root}' is never reached from the start" + (tail if others else ""),
            )

    def endings(self, reached: set[str]) -> None:
        """Nodes from which no call can end. A node with a dangling target counts as
        ending (the dangling target is the one problem to report)."""
        can_end = {
            nid
            for nid, node in self.nodes.items()
            if node.ends or any(t not in self.nodes for _, t in node.edges() if t)
        }
        changed = True
        while changed:
            changed = False
            for nid, node in self.nodes.items():
                if nid not in can_end and any(t in can_end for _, t in self._edges(node)):
                    can_end.add(nid)
                    changed = True
        for nid in self.nodes:
            if nid in reached and nid not in can_end:
                self.reader.error(
                    self.nodes[nid].position,
                    f"node '{nid}': no call that gets here can ever end "
                    "(no way on to a queue, transfer or hangup)",
                )

    def loops(self, reached: set[str]) -> None:
        """Every cycle must pass a node with max_visits (a verify's retry edge counts as
        bounded by its attempts)."""
        graph = {
            nid: [
                t
                for label, t in self._edges(self.nodes[nid])
                if t in reached
                and self.nodes[t].max_visits is None
                and not (isinstance(self.nodes[nid], model.Verify) and label == "retry")
            ]
            for nid in reached
            if self.nodes[nid].max_visits is None
        }
        order = list(self.nodes)
        for component in _strongly_connected(graph):
            single = next(iter(component))
            if len(component) == 1 and single not in graph[single]:
                continue
            members = sorted(component, key=order.index)
            first = members[0]
            self.reader.error(
                self.nodes[first].position,
                f"nodes {', '.join(repr(m) for m in members)} form a loop that nothing bounds: "
                "give one of them max_visits",
            )

    def secure_digits(self) -> None:
        for node in self.nodes.values():
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
                fed = any(
                    isinstance(g, model.Gather)
                    and g.secure
                    and g.next == node.id
                    and g.save_as == node.pin
                    for g in self.nodes.values()
                )
                if not fed:
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

    def data_names(self) -> dict[str, frozenset[str] | None]:
        """Every call-data name some node or use case provides, with its fixed values."""
        names: dict[str, frozenset[str] | None] = dict.fromkeys(BUILTIN_DATA)
        used = {name for name, _, _ in self.index.actions}
        for name in used & set(self.actions):
            names.update(self.actions[name].outputs)
        for node in self.nodes.values():
            names.update(dict.fromkeys(node.set))
            if isinstance(node, model.Gather) and not node.secure:
                names[node.save_as] = None
        return names

    def prompt_uses(self, catalog: Catalog, languages: tuple[str, ...]) -> None:
        known = self.data_names()
        for template, nid, pos in self.index.prompts:
            dynamic = placeholders(template)
            if not dynamic:
                self._prompt(template, nid, pos, catalog, known)
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
        known: Mapping[str, object],
        via: str = "",
    ) -> None:
        if prompt_id not in catalog:
            hint = suggestion(prompt_id, catalog.texts)
            source = f" (from '{via}')" if via else ""
            self.reader.error(
                pos, f"node '{nid}': prompt '{prompt_id}'{source} is not in the catalog{hint}"
            )
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
