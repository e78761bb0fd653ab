"""The reports page's charts, drawn on the server as SVG (no script, no chart library):
calls per hour of the day, and each queue's service level against the target.

Built with ElementTree, so every text is escaped; colours are presentation attributes
(the page's Content-Security-Policy allows no inline style), classes let the stylesheet
restyle them."""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree as ET

from ivr.services.insight import QueueFigures
from ivr.services.report_figures import HourOfDay

SVG_NS = "http://www.w3.org/2000/svg"
#: The share of callers a queue aims to answer within its seconds (the "80/20" rule).
TARGET_SHARE = 0.8
BAR = "#0b5cad"
BELOW = "#a40e26"
MUTED = "#55606e"
LINE = "#d0d7de"


def _svg(width: int, height: int, label: str) -> ET.Element:
    root = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "viewBox": f"0 0 {width} {height}",
            "width": str(width),
            "height": str(height),
            "role": "img",
            "aria-label": label,
            "class": "chart",
        },
    )
    ET.SubElement(root, "title").text = label
    return root


def _line(parent: ET.Element, x1: float, x2: float, y1: float, y2: float, **attrs: str) -> None:
    points = {"x1": f"{x1:.1f}", "x2": f"{x2:.1f}", "y1": f"{y1:.1f}", "y2": f"{y2:.1f}"}
    dashed = {k.replace("_", "-"): v for k, v in attrs.items()}
    ET.SubElement(parent, "line", {**points, **dashed})


def _text(parent: ET.Element, x: float, y: float, text: str, **attrs: str) -> None:
    attributes = {"x": f"{x:g}", "y": f"{y:g}", "font-size": "11", "fill": MUTED, **attrs}
    ET.SubElement(
        parent, "text", {k.replace("_", "-"): v for k, v in attributes.items()}
    ).text = text


def hours_chart(hours: Sequence[HourOfDay], days: int = 1) -> str:
    """Bars of calls per hour of the day (``days``: how many days were summed)."""
    counts = [0] * 24
    for figures in hours:
        counts[figures.hour] += figures.calls
    summed = "" if days <= 1 else f", summed over {days} days"
    label = f"Calls per hour of the day{summed}: {sum(counts)} calls"
    width, height, left, bottom, top = 600, 220, 40, 30, 20
    root = _svg(width, height, label)
    plot_h = height - bottom - top
    step = (width - left - 10) / 24
    peak = max(counts) or 1
    for i, tick in enumerate((0, peak)):
        y = height - bottom - plot_h * i
        _line(root, left, width - 10, y, y, stroke=LINE)
        _text(root, left - 4, y + 4, str(tick), text_anchor="end")
    for hour, count in enumerate(counts):
        bar_h = plot_h * count / peak
        x = left + hour * step
        rect = ET.SubElement(
            root,
            "rect",
            {
                "x": f"{x + 2:.1f}",
                "y": f"{height - bottom - bar_h:.1f}",
                "width": f"{step - 4:.1f}",
                "height": f"{bar_h:.1f}",
                "fill": BAR,
                "class": "bar",
                "data-hour": str(hour),
                "data-calls": str(count),
            },
        )
        ET.SubElement(rect, "title").text = f"{hour:02d}:00: {count} calls"
        if hour % 3 == 0:
            _text(root, x + step / 2, height - bottom + 14, f"{hour:02d}", text_anchor="middle")
    if not any(counts):
        _text(root, width / 2, height / 2, "No calls in this period.", text_anchor="middle")
    return ET.tostring(root, encoding="unicode")


def service_level_chart(queues: Sequence[QueueFigures], target: float = TARGET_SHARE) -> str:
    """One bar per queue: the share answered within its seconds, a line at ``target``."""
    row, left, right, top = 28, 170, 60, 24
    width = 600
    height = top + row * max(1, len(queues)) + 24
    label = f"Service level per queue against the {target:.0%} target"
    root = _svg(width, height, label)
    plot_w = width - left - right
    target_x = left + plot_w * target
    for i, queue in enumerate(queues):
        y = top + i * row
        share = queue.service_level
        name = f"{queue.queue} ({queue.service_level_seconds} s)"
        _text(root, left - 6, y + row / 2 + 4, name, text_anchor="end")
        track = {"x": str(left), "y": f"{y + 4}", "width": f"{plot_w}", "height": f"{row - 8}"}
        ET.SubElement(root, "rect", {**track, "fill": "#eef1f4", "class": "track"})
        said = "no callers" if share is None else f"{share:.0%}"
        if share is not None:
            bar = ET.SubElement(
                root,
                "rect",
                {
                    "x": str(left),
                    "y": f"{y + 4}",
                    "width": f"{plot_w * share:.1f}",
                    "height": f"{row - 8}",
                    "fill": BAR if share >= target else BELOW,
                    "class": "bar" if share >= target else "bar below",
                    "data-queue": queue.queue,
                    "data-share": f"{share:.4f}",
                },
            )
            ET.SubElement(bar, "title").text = (
                f"{queue.queue}: {queue.answered_within} of {queue.offered} answered within "
                f"{queue.service_level_seconds} s"
            )
        _text(root, left + plot_w + 6, y + row / 2 + 4, said)
    _line(root, target_x, target_x, top - 6, height - 20, stroke=MUTED, stroke_dasharray="4 3")
    _text(root, target_x, top - 10, f"target {target:.0%}", text_anchor="middle")
    if not queues:
        _text(root, left, top + row / 2 + 4, "No queue had callers in this period.")
    return ET.tostring(root, encoding="unicode")
