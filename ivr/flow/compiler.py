"""What building nodes from the located YAML tree needs: defaults, where things were
written, and the readers shared by node kinds (``builders.py`` has one builder per kind).

Every problem is collected (never raised) with its position; ``SourceIndex`` remembers
where each target and prompt was written so that the checks (``graph_checks.py``,
``name_checks.py``) can point at it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypedDict

from ivr.errors import SourcePosition
from ivr.flow import model
from ivr.flow.located import Fields, Located, Map, Reader, Scalar

KEYPAD = set("0123456789*#")
COMMON = ("type", "set", "max_visits", "on_max_visits")
ASKING = ("prompt", "timeout", "retries", "invalid_prompt", "timeout_prompt", "type_ahead")


class Common(TypedDict):
    id: str
    position: SourcePosition
    set: dict[str, str]
    max_visits: int | None
    on_max_visits: str | None


class Asking(TypedDict):
    prompts: tuple[str, ...]
    timeout: float
    retries: int
    invalid_prompt: str | None
    timeout_prompt: str | None
    type_ahead: bool


@dataclass(frozen=True)
class Defaults:
    language: str
    timeout: float
    retries: int
    invalid_prompt: str | None
    timeout_prompt: str | None
    on_error: str | None
    on_max_visits: str | None


@dataclass
class SourceIndex:
    """Where things were written: node positions, each target and prompt use.

    ``flawed`` nodes had a problem of their own (or could not be built at all); checks
    that look across nodes give them the benefit of the doubt, and ``loose`` holds every
    text written under them, so that reachability can still follow the ids they name.
    ``defaulted`` edges took their target from ``defaults`` (checked once, there)."""

    nodes: dict[str, SourcePosition] = field(default_factory=dict)
    flawed: set[str] = field(default_factory=set)
    loose: dict[str, set[str]] = field(default_factory=dict)
    defaulted: set[tuple[str, str]] = field(default_factory=set)
    targets: dict[tuple[str, str], SourcePosition] = field(default_factory=dict)
    prompts: list[tuple[str, str, SourcePosition]] = field(default_factory=list)
    queues: list[tuple[str, str, SourcePosition]] = field(default_factory=list)
    actions: list[tuple[str, str, SourcePosition]] = field(default_factory=list)


@dataclass
class NodeCompiler:
    reader: Reader
    defaults: Defaults
    queues: Mapping[str, model.QueueSpec]
    index: SourceIndex
    #: Nodes a node stands for besides itself (a survey's parts), added to the flow
    #: after it (``add_part``).
    parts: dict[str, model.Node] = field(default_factory=dict)
    #: The ids of every part added so far (``parts`` is emptied into the flow).
    added: set[str] = field(default_factory=set)

    # -- pieces shared by node kinds ---------------------------------------------------

    def add_part(self, node: model.Node, f: Fields) -> None:
        """A node the compiler adds for the node written at ``f`` (a survey's parts)."""
        if node.id in self.index.nodes:
            self.reader.error(f.pos, f"{f.what} adds node '{node.id}', which is written already")
            return
        self.index.nodes[node.id] = node.position
        self.parts[node.id] = node
        self.added.add(node.id)

    def common(self, node_id: str, f: Fields) -> Common:
        values = {k: text_of(v, self.reader, k) for k, (_, v) in f.table("set").items()}
        max_visits = f.integer("max_visits", 0, minimum=1) if f.has("max_visits") else None
        on_max = None
        if max_visits is not None:
            on_max = self.target(node_id, f, "on_max_visits", self.defaults.on_max_visits)
            if not on_max:
                self.reader.error(
                    f.position("max_visits"),
                    f"node '{node_id}' has max_visits but no on_max_visits (and defaults has none)",
                )
        return {
            "id": node_id,
            "position": f.pos,
            "set": values,
            "max_visits": max_visits,
            "on_max_visits": on_max,
        }

    def target(self, node_id: str, f: Fields, name: str, default: str | None = None) -> str:
        if not f.has(name):
            if default:
                self.index.defaulted.add((node_id, name))
            return default or ""
        value = f.text(name)
        self.index.targets[(node_id, name)] = f.position(name)
        return value

    def prompts(self, node_id: str, f: Fields, name: str = "prompt") -> tuple[str, ...]:
        ids = f.texts(name)
        for prompt_id in ids:
            self.index.prompts.append((prompt_id, node_id, f.position(name)))
        return ids

    def prompt(self, node_id: str, f: Fields, name: str, default: str | None) -> str | None:
        if f.has(name):
            ids = self.prompts(node_id, f, name)
            return ids[0] if ids else None
        return default  # a default prompt is checked once, where defaults are read

    def asking(self, node_id: str, f: Fields) -> Asking:
        d = self.defaults
        return {
            "prompts": self.prompts(node_id, f),
            "timeout": f.duration("timeout", d.timeout),
            "retries": f.integer("retries", d.retries),
            "invalid_prompt": self.prompt(node_id, f, "invalid_prompt", d.invalid_prompt),
            "timeout_prompt": self.prompt(node_id, f, "timeout_prompt", d.timeout_prompt),
            "type_ahead": f.boolean("type_ahead", True),
        }

    def keys(self, f: Fields, name: str) -> dict[str, tuple[str, SourcePosition]]:
        out = {}
        for key, (key_node, value) in f.table(name).items():
            if len(key) != 1 or key not in KEYPAD:
                self.reader.error(
                    key_node.pos, f'\'{key}\' in {f.what} is not a keypad key (0-9, "*", "#")'
                )
                continue
            out[key] = (text_of(value, self.reader, name), value.pos)
        if isinstance(f.raw(name), Map) and not out:
            self.reader.error(f.position(name), f"{f.what} has no valid '{name}'")
        return out

    def fallback(self, node_id: str, f: Fields, name: str, default: str | None) -> str:
        """A target that may come from defaults but must exist one way or the other."""
        value = self.target(node_id, f, name, default)
        if not value and not f.has(name):
            self.reader.error(f.pos, f"{f.what} needs '{name}' (or set it in defaults)")
        return value

    def key_targets(self, node_id: str, f: Fields, name: str, label: str) -> dict[str, str]:
        out = {}
        for key, (target, pos) in self.keys(f, name).items():
            out[key] = target
            if target != model.REPEAT:
                self.index.targets[(node_id, f"{label} {key}")] = pos
        return out


def text_of(value: Located, reader: Reader, name: str) -> str:
    if isinstance(value, Scalar) and not value.is_null:
        return value.value
    reader.error(value.pos, f"'{name}' values must be texts")
    return ""
