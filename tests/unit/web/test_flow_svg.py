"""The call tree as SVG: Graphviz's drawing cleaned for a page; a missing or failing
Graphviz is a clear error. The test needing Graphviz's ``dot`` skips on a machine without
it (one-line reason) and fails in CI, where scripts/install-test-deps installs it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from ivr.app.bootstrap import load_hotline
from ivr.flow import diagram
from ivr.web import flow_svg
from ivr.web.flow_svg import GraphvizError

FLOW = Path(__file__).resolve().parents[3] / "callflows.yaml"
SVG = "{http://www.w3.org/2000/svg}"


def need_dot() -> None:
    if shutil.which("dot") is None:
        reason = "no Graphviz 'dot' (Debian package graphviz; scripts/install-test-deps)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: required)", pytrace=False)
        pytest.skip(reason)


def test_graphviz_draws_the_annotated_tree() -> None:
    need_dot()
    flow = load_hotline(FLOW)
    traffic = {"main_menu": diagram.NodeTraffic(180, 18, 9)}
    svg = flow_svg.render_svg(diagram.dot(flow, traffic))
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("aria-label") == "The call tree"
    titles = {t.text for t in root.iter(f"{SVG}title")}
    assert set(flow.nodes) <= titles
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "180 in, 18 hung up (10.0%), 9 to a person" in texts
    assert any(p.get("fill") == "#fbe3a4" for p in root.iter(f"{SVG}polygon"))


def test_clean_svg_keeps_the_drawing_and_drops_scripts_links_and_handlers() -> None:
    dirty = (
        '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
        'xmlns:xlink="http://www.w3.org/1999/xlink" width="10pt" onload="evil()">'
        '<script>evil()</script><g class="node" style="x"><title>a&lt;b</title>'
        '<a xlink:href="javascript:evil()"><text>link</text></a>'
        '<polygon fill="red" points="0,0 1,1" onclick="evil()"/><text x="1">a &amp; b</text>'
        "<foreignObject><div>html</div></foreignObject></g></svg>"
    )
    clean = flow_svg.clean_svg(dirty)
    for gone in ("script", "evil", "xlink", "foreignObject", "style", "javascript", "<a "):
        assert gone not in clean
    root = ET.fromstring(clean)
    assert root.get("width") == "10pt"
    assert root.findtext(f"{SVG}g/{SVG}title") == "a<b"
    assert root.findtext(f"{SVG}g/{SVG}text") == "a & b"
    assert root.find(f"{SVG}g/{SVG}polygon").get("fill") == "red"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("svg", "said"),
    [
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><svg>&a;</svg>', "declares entities"),
        ("<svg><g></svg>", "does not parse"),
        ("<html/>", "is not SVG"),
    ],
)
def test_svg_that_is_not_a_plain_drawing_is_refused(svg: str, said: str) -> None:
    with pytest.raises(GraphvizError, match=said):
        flow_svg.clean_svg(svg)


def test_no_graphviz_names_the_package_to_install() -> None:
    with pytest.raises(GraphvizError) as refused:
        flow_svg.render_svg("digraph { a }", program="no-such-dot-program")
    assert "install the Debian package graphviz" in str(refused.value)


def test_graphviz_refusing_the_input_is_said_with_its_message() -> None:
    need_dot()
    with pytest.raises(GraphvizError, match=r"Graphviz failed \(exit status 1\): .*syntax error"):
        flow_svg.render_svg("digraph { a -> }")


def test_graphviz_taking_too_long_is_stopped(tmp_path: Path) -> None:
    slow = tmp_path / "slow-dot"
    slow.write_text("#!/bin/sh\nsleep 5\n")
    slow.chmod(0o755)
    with pytest.raises(GraphvizError, match="took longer than 0.2 s"):
        flow_svg.render_svg("digraph { a }", program=str(slow), timeout=0.2)
