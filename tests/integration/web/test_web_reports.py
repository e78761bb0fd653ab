"""The supervisors' reports page with Flask's test client on a real seeded database (both
backends), showing a hand-built report (``tests/report_sample.py``) in place of the SQL's:
the figures, the charts and the call tree as SVG, the period form and its refusals, the
fallback without Graphviz, agents refused, and a database that goes away."""

from __future__ import annotations

import html
import os
import re
import shutil
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from outage import Outage
from report_sample import HOSTILE, sample_report

from integration.support import OPEN_UTC
from integration.web_client import Web
from ivr.app.bootstrap import Components
from ivr.flow.model import Flow
from ivr.services import periods, reports
from ivr.services.insight import Period, Report
from ivr.web.reports import DATABASE_AWAY

SVG = "{http://www.w3.org/2000/svg}"
PAGE = "/supervisor/reports/"


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[Period]:
    """The periods the page asked ``build_report`` for; it answers with the sample."""
    seen: list[Period] = []

    def fake_report(
        unit_of_work: Callable[..., Any], flow: Flow, period: Period, now: datetime | None = None
    ) -> Report:
        assert now is not None  # the open and overdue complaints are the clock's now
        with unit_of_work():  # the page hands over the hotline's units of work
            pass
        seen.append(period)
        return sample_report(period)

    monkeypatch.setattr(reports, "build_report", fake_report)
    return seen


@pytest.fixture
def web(hotline: Components) -> Web:
    web = Web(hotline)
    assert web.sign_in("sam").status_code == 302
    return web


def svgs(page: str) -> dict[str, ET.Element]:
    """Every inline SVG of the page, parsed, by the id of the element around it."""
    found = {}
    for match in re.finditer(
        r'id="([\w-]+)"[^>]*>\s*(?:<figcaption>[^<]*</figcaption>\s*)?(<svg.*?</svg>)', page, re.S
    ):
        found[match.group(1)] = ET.fromstring(match.group(2))
    return found


def test_todays_figures_charts_and_call_tree(
    web: Web, hotline: Components, asked: list[Period]
) -> None:
    response = web.client.get(PAGE)
    assert response.status_code == 200
    tz = hotline.flow.timezone
    assert asked == [periods.today(OPEN_UTC, tz)]
    page = response.get_data(as_text=True)
    assert f'<span id="period">{periods.describe(asked[0])}</span>' in page
    assert "Today, " in page and f'<strong id="tz">{tz}</strong>' in page
    assert '<dd data-figure="calls">120</dd>' in page
    assert '<dd data-figure="contained">53 (44.2%)</dd>' in page
    assert '<dd data-figure="service_level">60.0%</dd>' in page
    assert (
        '<tr><th scope="row">main_menu</th><td class="text">menu</td><td>112</td><td>25</td>'
        "<td>22.3%</td><td>9</td><td>7</td><td>3</td></tr>"
    ) in page
    assert "<td>60.0%</td><td>20 s</td><td>14.2 s</td><td>312.0 s</td>" in page
    assert "<dt>Overdue</dt><dd>2</dd>" in page
    assert '<th scope="row">security_intro</th>' not in page
    assert '<p id="quiet-nodes">Nodes no call entered, not listed: 1 (grey' in page

    drawn = svgs(page)
    hours = drawn["hours-chart"]
    bars = {b.get("data-hour"): b.get("data-calls") for b in hours.iter(f"{SVG}rect")}
    assert (bars["9"], bars["10"]) == ("70", "50")
    service = drawn["service-chart"]
    assert [b.get("data-queue") for b in service.iter(f"{SVG}rect") if b.get("data-queue")] == [
        "payments"
    ]
    if shutil.which("dot") is not None:
        tree = drawn["tree"]
        assert set(hotline.flow.nodes) <= {t.text for t in tree.iter(f"{SVG}title")}
        texts = " ".join(t.text or "" for t in tree.iter(f"{SVG}text"))
        assert "112 in, 25 hung up (22.3%), 3 to a person" in texts


def test_everything_is_escaped_and_nothing_is_inline(web: Web, asked: list[Period]) -> None:
    page = web.client.get(PAGE).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert html.escape(HOSTILE, quote=False) in page
    assert "style=" not in page and "<style" not in page  # the CSP allows neither
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert "onload" not in page and "javascript:" not in page


def test_a_chosen_range_in_the_hotlines_time_zone(
    web: Web, hotline: Components, asked: list[Period]
) -> None:
    response = web.client.get(PAGE, query_string={"from": "2026-11-01", "to": "2026-11-30"})
    assert response.status_code == 200
    tz = hotline.flow.timezone
    assert asked == [periods.days(date(2026, 11, 1), date(2026, 11, 30), tz)]
    page = response.get_data(as_text=True)
    assert f'<span id="period">2026-11-01 to 2026-11-30 ({tz})</span>' in page
    assert 'value="2026-11-01"' in page and 'value="2026-11-30"' in page
    assert "Today, " not in page
    assert "summed over 30 days" in page


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({"from": "2026-02-30"}, "from: &#39;2026-02-30&#39; is not a date (YYYY-MM-DD)"),
        ({"from": "2026-11-30", "to": "2026-11-01"}, "starts (2026-11-30) after it ends"),
        ({"from": "2020-01-01", "to": "2026-11-01"}, "at most 366 days"),
        ({"to": "<b>x</b>"}, "to: &#39;&lt;b&gt;x&lt;/b&gt;&#39; is not a date"),
    ],
)
def test_a_bad_period_is_said_on_the_page(
    web: Web, asked: list[Period], query: dict[str, str], said: str
) -> None:
    response = web.client.get(PAGE, query_string=query)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert said in page and 'id="period-error"' in page
    assert asked == [] and "<svg" not in page


def test_without_graphviz_the_tree_is_a_table(
    web: Web, asked: list[Period], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "")
    response = web.client.get(PAGE)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="tree-problem"' in page and "install the Debian package graphviz" in page
    assert (
        '<th scope="row">payments_agent</th><td class="text">queue</td><td>30</td><td>8</td>'
        in page
    )
    assert set(svgs(page)) == {"hours-chart", "service-chart"}


def test_agents_are_refused_and_strangers_sent_to_sign_in(
    hotline: Components, asked: list[Period]
) -> None:
    stranger = Web(hotline)
    response = stranger.client.get(PAGE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    agent = Web(hotline)
    assert agent.sign_in("alice").status_code == 302
    response = agent.client.get(PAGE)
    assert response.status_code == 403
    assert "This page is for supervisors." in response.get_data(as_text=True)
    assert asked == []


def test_the_supervisor_view_links_to_the_reports(web: Web) -> None:
    page = web.client.get("/supervisor/").get_data(as_text=True)
    assert f'<a href="{PAGE}">Reports' in page


def test_a_database_that_goes_away_gives_a_clear_page(
    make_hotline: Callable[..., Components], outage: Outage, asked: list[Period]
) -> None:
    web = Web(make_hotline(outage.url))
    assert web.sign_in("sam").status_code == 302
    outage.cut()
    try:
        response = web.client.get(PAGE)
    finally:
        outage.restore()
    page = response.get_data(as_text=True)
    if outage.url.startswith("sqlite"):
        # SQLite's outage locks out writers only: the page's reads still go through.
        assert response.status_code == 200 and '<dd data-figure="calls">120</dd>' in page
        return
    assert response.status_code == 503
    assert DATABASE_AWAY in page and "Traceback" not in page
    assert web.client.get(PAGE).status_code == 200  # back with the database


def test_the_drawing_at_full_size(
    web: Web, hotline: Components, asked: list[Period], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = (hotline.clock.now() - timedelta(days=20)).date().isoformat()  # to: today
    page = web.client.get(PAGE, query_string={"from": first}).get_data(as_text=True)
    link = re.search(r'id="tree-full" href="([^"]+)"', page)
    if shutil.which("dot") is None and os.environ.get("CI") == "true":
        pytest.fail("no Graphviz 'dot' in CI (Debian package graphviz; scripts/install-test-deps)")
    if shutil.which("dot") is not None:
        assert link is not None
        response = web.client.get(html.unescape(link.group(1)))
        assert response.status_code == 200 and response.mimetype == "image/svg+xml"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        root = ET.fromstring(response.get_data(as_text=True))
        assert "main_menu" in {t.text for t in root.iter(f"{SVG}title")}
        assert asked[-1] == asked[0] and asked[0].tz == hotline.flow.timezone
    bad = web.client.get(f"{PAGE}tree.svg", query_string={"to": "someday"})
    assert bad.status_code == 400 and "is not a date" in bad.get_data(as_text=True)
    monkeypatch.setenv("PATH", "")
    missing = web.client.get(f"{PAGE}tree.svg")
    assert missing.status_code == 503
    assert "install the Debian package graphviz" in missing.get_data(as_text=True)
