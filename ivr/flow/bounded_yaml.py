"""Reading and composing YAML within bounds, so that a hostile file is refused, not obeyed.

Three bounds, each checked before the cost it guards against is paid:

* file size: at most ``max_bytes`` are ever read (one more, to tell that there is more);
* nesting depth: the composer counts levels as it opens them, so a ``[[[[...`` ten thousand
  deep stops at level ``max_depth`` instead of recursing into a ``RecursionError``;
* alias expansion: an alias costs the size of the tree it stands for, as it would be once
  expanded (aliases inside the anchored node included). A "billion laughs" file is a few
  hundred bytes whose aliases stand for billions of nodes; it is refused at the alias that
  passes ``max_alias_nodes``. An alias to a node it sits inside (a cycle) is refused too;
* node count: at most ``max_nodes`` in all, aliases expanded (the real hotline has 809),
  so that even a file within ``max_bytes`` cannot make a live server hold much.

The composer is PyYAML's own, run on libyaml's events when PyYAML has libyaml (as fast as
libyaml's composer: the events come from C, and the nodes were Python objects anyway).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError

from ivr.errors import IvrError


@dataclass(frozen=True)
class YamlLimits:
    """The most a flow file or prompt catalog may ask of the loader."""

    max_bytes: int = 1024 * 1024
    max_depth: int = 64
    max_alias_nodes: int = 10_000
    max_nodes: int = 50_000


class YamlLimitExceeded(IvrError):
    """A file passed one of the ``YamlLimits``; ``line`` and ``column`` are 1-based."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message


def read_bounded(path: Path, limits: YamlLimits) -> str:
    """The file's text; ``YamlLimitExceeded`` at 1:1 if it is larger than ``max_bytes``.
    Raises ``OSError`` and ``UnicodeDecodeError`` as reading a file does."""
    with path.open("rb") as file:
        data = file.read(limits.max_bytes + 1)
        if len(data) > limits.max_bytes:
            size = os.fstat(file.fileno()).st_size  # 0 for a pipe or a device
            said = f"{size} bytes, over" if size > limits.max_bytes else "over"
            limit = _bytes(limits.max_bytes)
            raise YamlLimitExceeded(1, 1, f"the file is {said} the limit of {limit}")
    return data.decode("utf-8")


def _bytes(count: int) -> str:
    if count % (1024 * 1024) == 0:
        return f"{count} bytes ({count // (1024 * 1024)} MiB)"
    return f"{count} bytes"


class _Bounded(Composer):
    """PyYAML's composer, counting depth and the nodes aliases stand for."""

    limits: YamlLimits
    _depth: int
    _made: int  # nodes so far, as if every alias were expanded
    _by_aliases: int  # the part of ``_made`` that aliases stand for
    _sizes: dict[str, int]  # anchor -> expanded size of its node, once it is complete
    peek_event: Callable[[], yaml.Event]  # the parser's half of a loader
    get_event: Callable[[], yaml.Event]

    def start_counting(self, limits: YamlLimits) -> None:
        self.limits = limits
        self._depth = self._made = self._by_aliases = 0
        self._sizes = {}

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        # PyYAML's Composer.compose_node with the counting woven in (one call per node: this
        # runs for every value of the flow in every per-call AGI process). Path resolvers,
        # which SafeLoader never has, are left out.
        event: Any = self.peek_event()
        anchor = event.anchor
        kind = type(event)
        if kind is yaml.AliasEvent:
            self.get_event()
            if anchor not in self.anchors:
                problem = f"found undefined alias {anchor!r}"
                raise ComposerError(None, None, problem, event.start_mark)
            self._count_alias(event)
            return self.anchors[anchor]
        if anchor is not None and anchor in self.anchors:
            first = self.anchors[anchor].start_mark
            raise ComposerError(
                f"found duplicate anchor {anchor!r}; first occurrence",
                first,
                "second occurrence",
                event.start_mark,
            )
        self._depth += 1
        if self._depth > self.limits.max_depth:
            limit = self.limits.max_depth
            raise _at(event.start_mark, f"nested more than {limit} levels deep, the limit")
        start = self._made
        self._made += 1
        if self._made > self.limits.max_nodes:
            self._too_many(event)
        node: yaml.Node
        if kind is yaml.ScalarEvent:
            node = self.compose_scalar_node(anchor)
        elif kind is yaml.SequenceStartEvent:
            node = self.compose_sequence_node(anchor)
        else:
            node = self.compose_mapping_node(anchor)
        self._depth -= 1
        if anchor is not None:
            self._sizes[anchor] = self._made - start
        return node

    def _count_alias(self, event: yaml.AliasEvent) -> None:
        name = event.anchor or ""
        size = self._sizes.get(name)
        if size is None:
            raise _at(event.start_mark, f"alias *{name} is used inside the node &{name} names")
        self._made += size
        self._by_aliases += size
        if self._by_aliases > self.limits.max_alias_nodes:
            raise _at(
                event.start_mark,
                f"aliases would expand to more than {self.limits.max_alias_nodes} YAML values, "
                f"the limit (*{name} alone stands for {size})",
            )
        if self._made > self.limits.max_nodes:
            self._too_many(event)

    def _too_many(self, event: yaml.NodeEvent) -> None:
        raise _at(
            event.start_mark,
            f"more than {self.limits.max_nodes} YAML values, the limit (keys and items, "
            "aliases expanded)",
        )


def _at(mark: Any, message: str) -> YamlLimitExceeded:
    """The error at a libyaml or PyYAML mark (both have 0-based ``line`` and ``column``)."""
    if mark is None:
        return YamlLimitExceeded(1, 1, message)
    return YamlLimitExceeded(mark.line + 1, mark.column + 1, message)


class _PureLoader(_Bounded, yaml.SafeLoader):
    pass


if hasattr(yaml, "CSafeLoader"):

    class _CLoader(_Bounded, yaml.CSafeLoader):
        def __init__(self, stream: str) -> None:
            yaml.CSafeLoader.__init__(self, stream)
            Composer.__init__(self)

    #: libyaml's parser when PyYAML has it (its wheels do): the same events and marks,
    #: about ten times faster than the pure-Python one, which a per-call AGI process pays for.
    _FAST: type[_Bounded] = _CLoader
else:  # pragma: no cover - PyYAML built without libyaml
    _FAST = _PureLoader

#: A file libyaml refuses is parsed again by the pure-Python parser, whose error says more
#: (the character at fault, the alias's name); past this size, libyaml's error is enough.
_EXPLAIN_UP_TO = 128 * 1024


def compose(text: str, limits: YamlLimits) -> yaml.Node | None:
    """The node tree of one YAML document (None if empty). Raises ``yaml.YAMLError`` for
    bad YAML and ``YamlLimitExceeded`` for a file past ``limits``."""
    try:
        return _compose(_FAST, text, limits)
    except yaml.YAMLError:
        if _FAST is _PureLoader or len(text) > _EXPLAIN_UP_TO:
            raise
    return _compose(_PureLoader, text, limits)


def _compose(loader_class: type[_Bounded], text: str, limits: YamlLimits) -> yaml.Node | None:
    loader = loader_class(text)  # type: ignore[call-arg]
    loader.start_counting(limits)
    try:
        node: yaml.Node | None = loader.get_single_node()
        return node
    finally:
        loader.dispose()  # type: ignore[attr-defined]
