"""The one error family of the product.

``IvrError`` is the base. ``FlowError`` says what is wrong with a flow file and where;
``FlowErrors`` carries all of them at once, so an admin sees every problem in one run.
A caller hanging up is an event, never an exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class IvrError(Exception):
    """Base of every error this product raises on purpose."""


@dataclass(frozen=True)
class SourcePosition:
    """A place in a file: 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a flow, at one place."""

    position: SourcePosition
    message: str

    def __str__(self) -> str:
        return f"{self.position}: {self.message}"


class FlowErrors(IvrError):
    """A flow file (or its prompt catalog) that cannot be loaded; holds every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(sorted(problems, key=_sort_key))
        super().__init__("\n".join(str(p) for p in self.problems))


def _sort_key(problem: Problem) -> tuple[str, int, int, str]:
    pos = problem.position
    return (pos.file, pos.line, pos.column, problem.message)


class EngineError(IvrError):
    """A driver fed the engine something the flow cannot take (the driver did wrong)."""
