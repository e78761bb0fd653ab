"""The supervisors' reports page in a real browser: Debian's chromium, driven headless by
Playwright, against the console's app served on a free port of 127.0.0.1 (werkzeug, in
this process) on a seeded SQLite database. The report is the hand-built sample
(``tests/report_sample.py``), so the page is tested apart from the SQL behind it. A
screenshot of the page is saved in the test artifacts folder (``IVR_TEST_ARTIFACTS``,
default ``var/test-artifacts``).

Without chromium, Playwright or Graphviz (``scripts/install-test-deps`` installs them, as
root) the test skips with a one-line reason; in CI (``CI=true``) it fails instead."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from report_sample import HOSTILE, sample_report
from sqlalchemy.orm import sessionmaker
from start_date import OPEN_TIME
from werkzeug.serving import make_server

from ivr.app.bootstrap import Components, bootstrap
from ivr.app.config import Settings
from ivr.flow.model import Flow
from ivr.services import periods, reports
from ivr.services.clock import RunningClock
from ivr.services.insight import Period, Report
from ivr.store import schema
from ivr.store.seed import seed_demo
from ivr.web import create_app

from .test_console_browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, unavailable

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
FLOW_PATH = ROOT / "callflows.yaml"
ARTIFACTS = Path(os.environ.get("IVR_TEST_ARTIFACTS") or ROOT / "var" / "test-artifacts")
SECRET = "reports-browser-secret"


@pytest.fixture
def console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Components]]:
    """The console's URL, served from this process with the sample report."""
    if shutil.which("dot") is None:
        unavailable("no Graphviz 'dot' (Debian package graphviz; scripts/install-test-deps)")

    def sample(
        unit_of_work: Callable[..., Any], flow: Flow, period: Period, now: datetime | None = None
    ) -> Report:
        return sample_report(period)

    monkeypatch.setattr(reports, "build_report", sample)
    settings = Settings(
        flow_path=FLOW_PATH,
        database_url=f"sqlite:///{tmp_path / 'ivr.sqlite3'}",
        log_level="WARNING",
        secret_key=SECRET,
    )
    hotline = bootstrap(settings, RunningClock(OPEN_TIME))
    schema.upgrade(hotline.database)
    seed_demo(sessionmaker(hotline.database), OPEN_TIME, pepper=hotline.pepper)
    server = make_server("127.0.0.1", 0, create_app(hotline), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="reports-console", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", hotline
    finally:
        server.shutdown()
        thread.join(timeout=10)
        hotline.database.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        unavailable(f"no {CHROMIUM} (Debian's chromium; scripts/install-test-deps, as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright's Python package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def _problem(message: Any) -> bool:
    """A console error other than a missing file (the site has no favicon)."""
    return bool(message.type == "error" and "Failed to load resource" not in message.text)


def test_a_supervisor_reads_the_reports_page(console: tuple[str, Components], browser: Any) -> None:
    from playwright.sync_api import expect

    url, hotline = console
    tz = hotline.flow.timezone
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    problems: list[str] = []  # script errors and content the CSP refused show here
    page.on("console", lambda m: problems.append(m.text) if _problem(m) else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(url + "/login")
        page.get_by_label("Username").fill("sam")
        page.get_by_label("Password").fill("sam-demo")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Supervisor").click()
        page.get_by_role("link", name="Reports", exact=False).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
        today = periods.describe(periods.today(OPEN_TIME, tz))
        expect(page.locator("#period")).to_have_text(today)
        expect(page.locator('[data-figure="calls"]')).to_have_text("120")
        expect(page.locator('[data-figure="service_level"]')).to_have_text("60.0%")

        hours = page.locator("#hours-chart svg")
        expect(hours).to_be_visible()
        expect(hours.locator("rect.bar")).to_have_count(24)
        tallest = hours.locator('rect[data-hour="9"]').bounding_box()
        assert tallest is not None and tallest["height"] > 50
        service = page.locator("#service-chart svg")
        expect(service.locator('rect[data-queue="payments"]')).to_be_visible()

        tree = page.locator("#tree svg")
        expect(tree).to_be_visible()
        box = tree.bounding_box()
        assert box is not None and box["width"] > 800 and box["height"] > 300
        main_menu = tree.locator("g.node", has_text="main_menu")
        expect(main_menu).to_contain_text("112 in, 25 hung up (22.3%), 3 to a person")
        expect(page.locator("#branches")).to_contain_text(HOSTILE)  # as text, not markup
        assert page.evaluate("document.querySelectorAll('#branches script').length") == 0

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "reports-page.png"), full_page=True)

        page.get_by_label("From", exact=True).fill("2026-11-01")
        page.get_by_label("To", exact=True).fill("2026-11-30")
        page.get_by_role("button", name="Show").click()
        expect(page.locator("#period")).to_have_text(f"2026-11-01 to 2026-11-30 ({tz})")
        summed = "Calls per hour of the day, summed over 30 days: 120 calls"
        expect(hours).to_have_attribute("aria-label", summed)
        assert problems == []

        page.get_by_label("From", exact=True).fill("2026-12-01")  # after the last day: 400
        page.get_by_role("button", name="Show").click()
        expect(page.locator("#period-error")).to_contain_text("after it ends")
    finally:
        page.close()
    assert (ARTIFACTS / "reports-page.png").stat().st_size > 10_000
