"""Reading one node: its ``type`` picks the builder (``builders.BUILDERS``) and its
allowed keys; a node with problems of its own is marked flawed, and the names its YAML
mentions are remembered so that the graph checks can still follow it."""

from __future__ import annotations

from ivr.flow import model
from ivr.flow.builders import BUILDERS
from ivr.flow.compiler import COMMON, NodeCompiler
from ivr.flow.located import Located, Map, Scalar, Seq, suggestion


def compile_node(c: NodeCompiler, node_id: str, value: Located) -> model.Node | None:
    """Build one node from its YAML, reporting problems; None if it cannot be built.
    A node with problems of its own is marked flawed (see ``SourceIndex``)."""
    before = len(c.reader.problems)
    node = _build(c, node_id, value)
    if node is None or len(c.reader.problems) > before:
        c.index.flawed.add(node_id)
        c.index.loose[node_id] = set(_texts_under(value))
    return node


#: Keys whose values are never node ids (prompt ids often share a node's name).
NOT_TARGETS = frozenset(
    {"type", "prompt", "invalid_prompt", "timeout_prompt", "retry_prompt", "queue", "action"}
    | {"var", "save_as", "account", "pin", "timezone", "to", "outcome", "skill", "set"}
    | {"max_wait", "announce_every", "ring_timeout"}
    | {"comment_prompt", "record_prompt", "thanks_prompt", "skip_reasons"}
)


#: Every key each kind of node may have.
_KEYS = {
    kind: frozenset((*COMMON, *allowed, *required))
    for kind, (allowed, required, _) in BUILDERS.items()
}


def _texts_under(value: Located) -> list[str]:
    if isinstance(value, Scalar):
        return [value.value]
    if isinstance(value, Seq):
        return [t for item in value.items for t in _texts_under(item)]
    return [
        t for key, item in value.pairs if key.value not in NOT_TARGETS for t in _texts_under(item)
    ]


def _build(c: NodeCompiler, node_id: str, value: Located) -> model.Node | None:
    where = f"node '{node_id}'"
    if node_id in c.parts or node_id in c.added:
        c.reader.error(value.pos, f"{where}: a survey adds a node with this id already")
        return None
    c.index.nodes[node_id] = value.pos
    if not isinstance(value, Map):
        c.reader.error(value.pos, f"{where} must be a mapping with a 'type'")
        return None
    kind_value = next((v for k, v in value.pairs if k.value == "type"), None)
    if not isinstance(kind_value, Scalar) or kind_value.is_null:
        pos = value.pos if kind_value is None else kind_value.pos
        c.reader.error(pos, f"{where} needs 'type' (one of {', '.join(BUILDERS)})")
        return None
    spec = BUILDERS.get(kind_value.value)
    if spec is None:
        hint = suggestion(kind_value.value, BUILDERS)
        c.reader.error(kind_value.pos, f"{where}: unknown type '{kind_value.value}'{hint}")
        return None
    _, required, build = spec
    what = f"{kind_value.value} {where}"
    fields = c.reader.fields(value, what, _KEYS[kind_value.value], required)
    return build(c, node_id, fields, c.common(node_id, fields))
