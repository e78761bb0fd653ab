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

The composer is PyYAML's, run on libyaml's events when PyYAML has libyaml, and it builds the
located tree (``located.py``) itself: one pass over the events, no ``yaml.Node`` graph.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from yaml.composer import Composer, ComposerError

from ivr.errors import IvrError
from ivr.flow.located import Located, Map, Scalar, Seq


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
    """PyYAML's composer, building the located tree (``located.py``) straight from the
    parser's events, counting depth and the nodes aliases stand for.

    It composes as PyYAML's ``Composer.get_single_node`` does (the same events, the same
    errors in the same order) but makes no ``yaml.Node`` graph to be walked a second time,
    and resolves a plain scalar's tag only when it could be a null (the one tag the tree
    keeps)."""

    limits: YamlLimits
    _file: str
    _made: int  # nodes so far, as if every alias were expanded
    _by_aliases: int  # the part of ``_made`` that aliases stand for
    _marks: dict[str, Any]  # anchor -> where its node starts, from the moment it opens
    _sizes: dict[str, int]  # anchor -> expanded size of its node, once it is complete
    _values: dict[str, Located]  # anchor -> its node, once it is complete
    peek_event: Callable[[], yaml.Event]  # the parser's half of a loader
    get_event: Callable[[], yaml.Event]
    check_event: Callable[..., bool]
    resolve: Callable[..., str]

    def start_counting(self, limits: YamlLimits, file: str) -> None:
        self.limits = limits
        self._file = file
        self._made = self._by_aliases = 0
        self._marks = {}
        self._sizes = {}
        self._values = {}

    def build_single(self) -> Located | None:
        """The one document's tree (None for an empty stream), as ``get_single_node``."""
        self.get_event()  # stream start
        root = None
        if not self.check_event(yaml.StreamEndEvent):
            self.get_event()  # document start
            start: Any = self.peek_event().start_mark
            root = self.build_value()
            self.get_event()  # document end
            if not self.check_event(yaml.StreamEndEvent):
                event: Any = self.get_event()
                raise ComposerError(
                    "expected a single document in the stream",
                    start,
                    "but found another document",
                    event.start_mark,
                )
        self.get_event()  # stream end
        return root

    def build_value(self) -> Located:
        """The value that starts at the next event, with everything inside it."""
        # One turn of this loop per event of the file, in every per-call AGI process too:
        # PyYAML's compose_node with the counting woven in, without its recursion.
        get_event = self.get_event
        max_depth, max_nodes = self.limits.max_depth, self.limits.max_nodes
        file, marks, sizes, values = self._file, self._marks, self._sizes, self._values
        made = self._made
        opened: list[_Open] = []  # the collections being read, the innermost last
        while True:
            event: Any = get_event()
            kind = type(event)
            value: Located
            if kind is _SCALAR or kind is _SEQUENCE or kind is _MAPPING:
                anchor, mark = event.anchor, event.start_mark
                if anchor is not None:
                    if anchor in marks:
                        raise ComposerError(
                            f"found duplicate anchor {anchor!r}; first occurrence",
                            marks[anchor],
                            "second occurrence",
                            mark,
                        )
                    marks[anchor] = mark
                if len(opened) >= max_depth:
                    raise _at(mark, f"nested more than {max_depth} levels deep, the limit")
                made += 1
                if made > max_nodes:
                    self._too_many(event)
                if kind is not _SCALAR:
                    opened.append(_Open([], kind is _MAPPING, mark, anchor, made - 1))
                    continue
                text = event.value
                if event.tag is None and text not in _NULLS:  # most: a plain text
                    value = Scalar(text, file, False, mark)
                else:
                    value = Scalar(text, file, self._is_null(event), mark)
                if anchor is not None:
                    sizes[anchor], values[anchor] = 1, value
            elif kind is yaml.AliasEvent:
                anchor = event.anchor
                if anchor not in marks:
                    problem = f"found undefined alias {anchor!r}"
                    raise ComposerError(None, None, problem, event.start_mark)
                self._made = made
                self._count_alias(event)
                made = self._made
                value = values[anchor]
            else:  # the end of the innermost collection
                done = opened.pop()
                if done.mapping:
                    value = Map(_pairs(done.items), file, done.mark)
                else:
                    value = Seq(tuple(done.items), file, done.mark)
                if done.anchor is not None:
                    sizes[done.anchor], values[done.anchor] = made - done.made, value
            if not opened:
                self._made = made
                return value
            opened[-1].items.append(value)

    def _is_null(self, event: yaml.ScalarEvent) -> bool:
        tag = event.tag
        if tag is None or tag == "!":
            return (
                event.value in _NULLS
                and self.resolve(yaml.ScalarNode, event.value, event.implicit) == _NULL
            )
        return tag == _NULL

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


#: The tag of a null, and the only plain scalars SafeLoader's resolver can give it.
_NULL = "tag:yaml.org,2002:null"
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_SCALAR, _SEQUENCE, _MAPPING = yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent


class _Open(NamedTuple):
    """A collection being read: its values so far (a mapping's keys and values in turn)."""

    items: list[Located]
    mapping: bool
    mark: Any
    anchor: str | None
    made: int  # nodes made before it


def _pairs(items: list[Located]) -> tuple[tuple[Scalar, Located], ...]:
    keys = [k if isinstance(k, Scalar) else Scalar("<complex key>", k.pos) for k in items[::2]]
    return tuple(zip(keys, items[1::2], strict=True))


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


def compose(text: str, limits: YamlLimits, file: str = "") -> Located | None:
    """The located tree of one YAML document (None if empty), its positions in ``file``.
    Raises ``yaml.YAMLError`` for bad YAML and ``YamlLimitExceeded`` for a file past
    ``limits``."""
    try:
        return _compose(_FAST, text, limits, file)
    except yaml.YAMLError:
        if _FAST is _PureLoader or len(text) > _EXPLAIN_UP_TO:
            raise
    return _compose(_PureLoader, text, limits, file)


def _compose(
    loader_class: type[_Bounded], text: str, limits: YamlLimits, file: str
) -> Located | None:
    loader = loader_class(text)  # type: ignore[call-arg]
    loader.start_counting(limits, file)
    try:
        return loader.build_single()
    finally:
        loader.dispose()  # type: ignore[attr-defined]
