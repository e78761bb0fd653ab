"""How every benchmark under ``bench/`` prints its figures: each beside the peer measured in
the same run, the ratio, the issue's target for that ratio and whether it is met.

    from figures import Figure, show
    show("FastAGI, 300 concurrent calls", [
        Figure("calls/s", ours=190.0, peer=350.0, unit="/s", want=">= 0.5", better="higher"),
        Figure("p99 per command", ours=0.030, peer=0.021, unit="s", want="<= 2"),
    ], peer="panoramisk 1.4, same commands, no work")

A ratio is ``ours / peer``; ``want`` is the target for it (``">= 0.5"``, ``"<= 2"``) or
None when the figure is only reported. Absolute targets (a time, a size) use ``limit``
instead: ``Figure("20,000 nodes", ours=1.4, unit="s", limit="<= 2")``. ``show`` prints a
rich table and one plain ``BENCH`` line per figure (for ``grep``), and returns whether all
targets were met; a benchmark's exit status stays 0 either way (``make bench`` runs them
all and a miss is read, not hidden).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

_OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq}


@dataclass(frozen=True)
class Figure:
    """One measured figure. ``peer``: the same figure for the peer (None: no peer for it,
    then ``limit`` is an absolute target); ``want``: target for ours/peer; ``limit``:
    target for ours itself."""

    label: str
    ours: float
    peer: float | None = None
    unit: str = ""
    want: str | None = None
    limit: str | None = None

    @property
    def ratio(self) -> float | None:
        if self.peer is None or self.peer == 0:
            return None
        return self.ours / self.peer

    @property
    def met(self) -> bool | None:
        """True/False against the target; None when there is none."""
        if self.want is not None and self.ratio is not None:
            return _holds(self.ratio, self.want)
        if self.limit is not None:
            return _holds(self.ours, self.limit)
        return None


def _holds(value: float, target: str) -> bool:
    op, _, number = target.strip().partition(" ")
    return bool(_OPS[op](value, float(number)))


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s" and value < 1:
        return f"{value * 1000:.1f} ms"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}".strip()
    return f"{value:.3g} {unit}".strip()


def show(title: str, figures: Sequence[Figure], peer: str = "") -> bool:
    """Print ``figures`` as a table under ``title`` (``peer`` names what they are compared
    with); True when every target is met."""
    table = Table(title=title, caption=f"peer: {peer}" if peer else None)
    for column in ("figure", "ours", "peer", "ratio", "target", "met"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    console = Console(width=120)
    all_met = True
    for f in figures:
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "-"
        target = f"ratio {f.want}" if f.want else (f"{f.limit} {f.unit}" if f.limit else "-")
        met = f.met
        all_met = all_met and met is not False
        mark = "-" if met is None else ("yes" if met else "NO")
        table.add_row(
            f.label, _number(f.ours, f.unit), _number(f.peer, f.unit), ratio, target, mark
        )
    console.print(table)
    for f in figures:
        ratio = f"{f.ratio:.3f}" if f.ratio is not None else "-"
        print(
            f"BENCH {title} | {f.label} | ours={f.ours:.6g}{f.unit} | "
            f"peer={'-' if f.peer is None else f'{f.peer:.6g}{f.unit}'} | ratio={ratio} | "
            f"target={f.want or f.limit or '-'} | met={'-' if f.met is None else f.met}"
        )
    return all_met
