"""The call tree as SVG: Graphviz's ``dot -Tsvg`` on a DOT text (``ivr.flow.diagram``),
run with a time limit and read up to a size limit, then cleaned to the few SVG elements
and attributes a drawing needs, so it can be put inline in a page (no script, no links,
no styles, no entities). ``ivr graph --format svg`` and the reports page both use it."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from typing import IO
from xml.etree import ElementTree as ET

from ivr.errors import IvrError

#: Debian's package with the ``dot`` program.
PACKAGE = "graphviz"
TIMEOUT_SECONDS = 15.0
MAX_SVG_BYTES = 8 * 1024 * 1024
SVG_NS = "http://www.w3.org/2000/svg"
#: What a Graphviz drawing is made of; anything else (``a``, ``script``...) is dropped.
ELEMENTS = frozenset(
    {"svg", "g", "title", "polygon", "polyline", "path", "ellipse", "circle", "rect", "text"}
)
ATTRIBUTES = frozenset(
    {
        "width", "height", "viewBox", "transform", "class", "fill", "fill-opacity", "stroke",
        "stroke-width", "stroke-dasharray", "stroke-opacity", "points", "d", "cx", "cy", "rx",
        "ry", "r", "x", "y", "text-anchor", "font-family", "font-size", "font-weight",
        "font-style", "preserveAspectRatio",
    }
)  # fmt: skip


class GraphvizError(IvrError):
    """Graphviz is missing, failed, took too long or drew too much."""


def render_svg(dot_text: str, program: str = "dot", timeout: float = TIMEOUT_SECONDS) -> str:
    """The SVG Graphviz draws for ``dot_text``, cleaned (``clean_svg``)."""
    found = shutil.which(program)
    if found is None:
        raise GraphvizError(
            f"Graphviz's '{program}' program is not installed; install the Debian package "
            f"{PACKAGE} (apt-get install {PACKAGE}) to draw SVG"
        )
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            done = subprocess.run(
                [found, "-Tsvg"],
                input=dot_text.encode(),
                stdout=out,
                stderr=err,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise GraphvizError(f"Graphviz took longer than {timeout:g} s") from exc
        except OSError as exc:
            raise GraphvizError(f"Graphviz could not run: {exc}") from exc
        if done.returncode != 0:
            said = _head(err, 300).decode(errors="replace").strip() or "no message"
            raise GraphvizError(f"Graphviz failed (exit status {done.returncode}): {said}")
        svg = _head(out, MAX_SVG_BYTES + 1)
    if len(svg) > MAX_SVG_BYTES:
        raise GraphvizError(f"Graphviz drew more than {MAX_SVG_BYTES} bytes")
    return clean_svg(svg.decode(errors="replace"))


def _head(file: IO[bytes], limit: int) -> bytes:
    file.seek(0)
    return file.read(limit)


def clean_svg(svg: str, label: str = "The call tree") -> str:
    """Only ``ELEMENTS`` with ``ATTRIBUTES``, without namespaces prefixes; the root named
    ``label`` for screen readers. Refuses SVG that declares entities."""
    if "<!ENTITY" in svg:
        raise GraphvizError("the SVG declares entities; refused")
    try:
        root = ET.fromstring(svg)
    except ET.ParseError as exc:
        raise GraphvizError(f"Graphviz's SVG does not parse: {exc}") from exc
    if _local(root.tag) != "svg":
        raise GraphvizError("Graphviz's output is not SVG")
    clean = _copy(root)
    assert clean is not None
    clean.set("xmlns", SVG_NS)
    clean.set("role", "img")
    clean.set("aria-label", label)
    return ET.tostring(clean, encoding="unicode")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _copy(element: ET.Element) -> ET.Element | None:
    tag = _local(element.tag) if isinstance(element.tag, str) else ""
    if tag not in ELEMENTS:
        return None
    copy = ET.Element(tag, {k: v for k, v in element.attrib.items() if k in ATTRIBUTES})
    copy.text, copy.tail = element.text, element.tail
    for child in element:
        kept = _copy(child)
        if kept is not None:  # a dropped element's text and tail go with it
            copy.append(kept)
    return copy
