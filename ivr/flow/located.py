"""A YAML document as a small tree of values that remember where they were written.

``bounded_yaml.py`` builds it straight from the YAML parser's events (for ``loader.py``);
everything after that (``compiler.py``, ``node_reader.py``, ``builders.py``, the checks) works
on this pure tree, so only those two import yaml.
``Reader`` reads typed values out of it and collects every problem instead of stopping.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from ivr.errors import Problem, SourcePosition
from ivr.flow.durations import parse_duration


class Mark(Protocol):
    """Where a parser saw a value: 0-based ``line`` and ``column`` (a YAML mark)."""

    @property
    def line(self) -> int: ...

    @property
    def column(self) -> int: ...


class _Written:
    """A value's place in its file, made into a ``SourcePosition`` only when asked for:
    a flow has a quarter of a million values and needs the places of a few."""

    __slots__ = ("_file", "_mark", "_pos")
    _file: str
    _mark: Mark | None
    _pos: SourcePosition | None

    @property
    def pos(self) -> SourcePosition:
        pos = self._pos
        if pos is None:
            mark = self._mark
            assert mark is not None  # set whenever _pos is not
            pos = self._pos = SourcePosition(self._file, mark.line + 1, mark.column + 1)
        return pos


class Scalar(_Written):
    """A text (or a null). Built at a ``SourcePosition``, or in ``file`` at a parser's
    ``mark``; not changed once built."""

    __slots__ = ("value", "is_null")

    def __init__(
        self,
        value: str,
        where: SourcePosition | str,
        is_null: bool = False,
        mark: Mark | None = None,
    ) -> None:
        self.value = value
        self.is_null = is_null
        if isinstance(where, str):
            self._file, self._mark, self._pos = where, mark, None
        else:
            self._file, self._mark, self._pos = where.file, None, where


class Seq(_Written):
    __slots__ = ("items",)

    def __init__(
        self, items: tuple[Located, ...], where: SourcePosition | str, mark: Mark | None = None
    ) -> None:
        self.items = items
        if isinstance(where, str):
            self._file, self._mark, self._pos = where, mark, None
        else:
            self._file, self._mark, self._pos = where.file, None, where


class Map(_Written):
    __slots__ = ("pairs",)

    def __init__(
        self,
        pairs: tuple[tuple[Scalar, Located], ...],
        where: SourcePosition | str,
        mark: Mark | None = None,
    ) -> None:
        self.pairs = pairs
        if isinstance(where, str):
            self._file, self._mark, self._pos = where, mark, None
        else:
            self._file, self._mark, self._pos = where.file, None, where


Located = Scalar | Seq | Map
T = TypeVar("T")

_INT = re.compile(r"[+-]?\d+")
_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}


def suggestion(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a close choice exists, else an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass
class Reader:
    """Collects problems while reading; never raises for bad input."""

    problems: list[Problem] = field(default_factory=list)

    def error(self, pos: SourcePosition, message: str) -> None:
        self.problems.append(Problem(pos, message))

    def mapping(self, value: Located, what: str) -> dict[str, tuple[Scalar, Located]]:
        """The pairs of a mapping by key; reports a non-mapping and duplicate keys."""
        if isinstance(value, Scalar) and value.is_null:
            return {}
        if not isinstance(value, Map):
            self.error(value.pos, f"{what} must be a mapping of key: value lines")
            return {}
        out = {key.value: (key, item) for key, item in value.pairs}
        if len(out) == len(value.pairs):
            return out  # no key twice: most mappings
        out = {}
        for key, item in value.pairs:
            if key.value in out:
                first = out[key.value][0].pos
                self.error(
                    key.pos,
                    f"duplicate key '{key.value}' in {what} (first at line {first.line})",
                )
                continue
            out[key.value] = (key, item)
        return out

    def fields(
        self, value: Located, what: str, allowed: Iterable[str], required: Iterable[str] = ()
    ) -> Fields:
        """A mapping with a fixed set of keys: unknown ones and missing required ones are
        reported."""
        pairs = self.mapping(value, what)
        if isinstance(allowed, frozenset) and allowed.issuperset(required):
            allowed_set = allowed
        else:
            allowed_set = frozenset((*allowed, *required))
        meant = set()
        for name, (key, _) in pairs.items():
            if name not in allowed_set:
                hint = suggestion(name, allowed_set)
                meant.add(hint.split("'")[1] if hint else "")
                self.error(key.pos, f"unknown key '{name}' in {what}{hint}")
        for name in required:
            if name not in pairs and name not in meant:  # a misspelling is reported once
                self.error(value.pos, f"{what} needs '{name}'")
        return Fields(self, what, pairs, value.pos)


@dataclass
class Fields:
    """Typed access to the keys of one mapping; a bad value is reported and replaced by
    the default so that reading can go on."""

    reader: Reader
    what: str
    pairs: dict[str, tuple[Scalar, Located]]
    pos: SourcePosition

    def has(self, name: str) -> bool:
        return name in self.pairs

    def position(self, name: str) -> SourcePosition:
        return self.pairs[name][1].pos if name in self.pairs else self.pos

    def raw(self, name: str) -> Located | None:
        return self.pairs[name][1] if name in self.pairs else None

    def _scalar(self, name: str, kind: str) -> Scalar | None:
        value = self.raw(name)
        if value is None:
            return None
        if not isinstance(value, Scalar) or value.is_null:
            self.reader.error(value.pos, f"'{name}' in {self.what} must be {kind}")
            return None
        return value

    def _typed(self, name: str, default: T, kind: str, convert: Callable[[str], T]) -> T:
        scalar = self._scalar(name, kind)
        if scalar is None:
            return default
        try:
            return convert(scalar.value)
        except ValueError as exc:
            self.reader.error(scalar.pos, f"'{name}' in {self.what}: {exc}")
            return default

    def text(self, name: str, default: str = "") -> str:
        return self._typed(name, default, "a text", str)

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        def convert(raw: str) -> int:
            if not _INT.fullmatch(raw.strip()):
                raise ValueError(f"expected a whole number, got '{raw}'")
            number = int(raw)
            if number < minimum:
                raise ValueError(f"must be at least {minimum}, got {number}")
            return number

        return self._typed(name, default, "a whole number", convert)

    def fraction(self, name: str, default: float) -> float:
        """A number from 0 to 1 (a share: ``0.25``)."""

        def convert(raw: str) -> float:
            try:
                number = float(raw)
            except ValueError:
                raise ValueError(f"expected a number from 0 to 1, got '{raw}'") from None
            if not 0.0 <= number <= 1.0:
                raise ValueError(f"must be from 0 to 1, got {raw}")
            return number

        return self._typed(name, default, "a number from 0 to 1", convert)

    def duration(self, name: str, default: float) -> float:
        return self._typed(name, default, "a duration like 5s", parse_duration)

    def boolean(self, name: str, default: bool) -> bool:
        def convert(raw: str) -> bool:
            low = raw.strip().lower()
            if low in _TRUE | _FALSE:
                return low in _TRUE
            raise ValueError(f"expected true or false, got '{raw}'")

        return self._typed(name, default, "true or false", convert)

    def texts(self, name: str) -> tuple[str, ...]:
        """One text or a list of texts."""
        return tuple(text for text, _ in self.texts_at(name))

    def texts_at(self, name: str) -> list[tuple[str, SourcePosition]]:
        """One text or a list of texts, each with where it was written."""
        value = self.raw(name)
        if value is None:
            return []
        items = value.items if isinstance(value, Seq) else (value,)
        out = []
        for item in items:
            if isinstance(item, Scalar) and not item.is_null:
                out.append((item.value, item.pos))
            else:
                self.reader.error(item.pos, f"'{name}' in {self.what} must be a text or a list")
        return out

    def table(self, name: str) -> dict[str, tuple[Scalar, Located]]:
        value = self.raw(name)
        if value is None:
            return {}
        return self.reader.mapping(value, f"'{name}' of {self.what}")
