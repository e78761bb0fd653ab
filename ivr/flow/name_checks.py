"""Checks of the names a compiled flow uses: secure digits handed straight to the node
that uses them, queues and use cases registered with every outcome led somewhere,
prompts in the catalog with every placeholder provided. Each finding is reported once,
at the place to fix."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ivr.errors import SourcePosition
from ivr.flow import model, nodes
from ivr.flow.compiler import SourceIndex
from ivr.flow.located import Reader, suggestion
from ivr.flow.prompts import Catalog, placeholders

BUILTIN_DATA = frozenset({"ani", "dnid", "call_id", "language", "verified", "verified_account"})


class NameChecker:
    """Checks of the names nodes use. Nodes the index marks flawed (they had a problem of
    their own) get the benefit of the doubt, so that one mistake is reported once."""

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

    def secure_digits(self) -> None:
        doubtful = any(
            isinstance(g, nodes.Gather) and g.next not in self.nodes for g in self.nodes.values()
        )
        feeders: dict[tuple[str, str], list[nodes.Gather]] = {}  # by (next, save_as)
        for g in self.nodes.values():
            if isinstance(g, nodes.Gather):
                feeders.setdefault((g.next, g.save_as), []).append(g)
        for node in self.nodes.values():
            if node.id in self.index.flawed:
                continue
            if isinstance(node, nodes.Gather) and node.secure:
                following = self.nodes.get(node.next)
                ok = isinstance(following, nodes.Action) or (
                    isinstance(following, nodes.Verify) and following.pin == node.save_as
                )
                if following is not None and not ok:
                    self.reader.error(
                        self.index.targets.get((node.id, "next"), node.position),
                        f"secure gather '{node.id}' must go straight to the verify or action "
                        f"node that uses '{node.save_as}' (secure digits are never stored)",
                    )
            if isinstance(node, nodes.Verify):
                fed = any(
                    g.secure or g.id in self.index.flawed
                    for g in feeders.get((node.id, node.pin), ())
                )
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
            if not isinstance(node, nodes.Action):
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
            if isinstance(node, nodes.Gather) and not node.secure:
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
