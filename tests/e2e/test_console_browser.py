"""The agent console in a real browser: Debian's chromium, driven headless by Playwright's
Python package, against ``ivr serve --no-fastagi`` (waitress and the dispatcher thread) on
a free port of 127.0.0.1 with its own seeded SQLite database. The test plays the phone
side through ``ContactCenter`` on the same database, as the FastAGI wait loop would.

Without chromium or Playwright (``scripts/install-test-deps`` installs both, as root) the
test skips with a one-line reason; in CI (``CI=true``) it fails instead."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
from served import ivr_serve
from sqlalchemy import text
from start_date import OPEN_TIME, clock_environment

from ivr.app.bootstrap import Components, bootstrap
from ivr.app.config import Settings
from ivr.services.clock import RunningClock
from ivr.services.contact_entries import WaitingCall

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
FLOW_PATH = ROOT / "callflows.yaml"
CHROMIUM = Path("/usr/bin/chromium")
#: Chromium must not try hosts it cannot reach (REAL-PARTS.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SECRET = "browser-test-secret"
WAIT_MS = 15_000


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI runs the browser tests: scripts/install-test-deps)", False)
    pytest.skip(reason)


@dataclass
class Served:
    url: str
    hotline: Components  # the phone side's view of the same database
    process: subprocess.Popen[str]


def _ivr(*args: str, env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ivr.app.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"ivr {' '.join(args)}: {done.stderr}"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """``ivr serve --no-fastagi --port 0`` on a fresh seeded SQLite database."""
    database_url = f"sqlite:///{tmp_path / 'ivr.sqlite3'}"
    clock = RunningClock(OPEN_TIME)  # this test's; each process starts at its reading
    env = {
        **os.environ,
        "IVR_DATABASE_URL": database_url,
        "IVR_FLOW": str(FLOW_PATH),
        "IVR_SECRET_KEY": SECRET,
        "IVR_LOG_LEVEL": "WARNING",
        "IVR_ASTERISK_SPOOL": str(tmp_path / "spool"),
        "PYTHONUNBUFFERED": "1",
    }
    _ivr("db", "upgrade", env=env, cwd=tmp_path)
    _ivr("seed", "--demo", env=env | clock_environment(clock), cwd=tmp_path)
    command = [sys.executable, "-m", "ivr.app.cli", "serve", "--no-fastagi", "--port", "0"]
    with ivr_serve(command, env | clock_environment(clock), tmp_path) as serving:
        said = serving.said
        assert any(line.startswith("demo sign-ins: alice / alice-demo") for line in said), said
        settings = Settings(
            flow_path=FLOW_PATH, database_url=database_url, log_level="WARNING", secret_key=SECRET
        )
        hotline = bootstrap(settings, clock)
        yield Served(serving.url, hotline, serving.process)
        hotline.database.dispose()
    assert serving.process.returncode == 0, serving.stopped  # SIGTERM: a graceful stop
    assert "stopped" in serving.stopped


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
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


def waiting(call_id: str, queue: str, priority: int, **fields: Any) -> WaitingCall:
    values: dict[str, Any] = {
        "language": "en",
        "caller_id": "+14155550102",
        "account_number": "10000002",
        "reason": "payment_failure",
        "path": ("choose_language", "welcome", "main_menu", "payment_intro", "payments_agent"),
        **fields,
    }
    return WaitingCall(call_id=call_id, queue=queue, priority=priority, skill=queue, **values)


def test_an_agent_takes_a_call_and_notes_it(served: Served, browser: Any) -> None:
    from playwright.sync_api import expect

    center = served.hotline.contact_center
    page = browser.new_page()
    page.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    try:
        page.goto(served.url + "/")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("alice-demo")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Agent console: Alice Martin")

        page.get_by_role("button", name="Go available").click()
        expect(page.locator("#agent-state")).to_have_text("Available")
        expect(page.locator("#no-call")).to_be_visible()
        page.evaluate("window.notReloaded = true")

        # A caller alice cannot take (security): the queue shows it without a reload.
        center.enqueue(waiting("browser-security", "security", 10, reason="security"))
        expect(page.locator("#queue-summary")).to_have_text("1 waiting or being offered.")
        expect(page.locator("#queue-rows tr")).to_have_count(1)
        expect(page.locator("#queue-rows tr td").nth(1)).to_have_text("security")

        # A payments caller: the dispatcher offers it to alice; the screen pop appears.
        entry = center.enqueue(waiting("browser-payments", "payments", 5))
        pop = page.locator("#screen-pop")
        expect(pop).to_be_visible()
        expect(page.locator("#agent-state")).to_have_text("Ringing")
        expect(pop.locator('[data-field="holder_name"]')).to_have_text("Emma Walker")
        expect(pop.locator('[data-field="account_status"]')).to_have_text("Active (no. 10000002)")
        expect(pop.locator('[data-field="reason"]')).to_have_text("A failed payment")
        expect(pop.locator('[data-field="language"]')).to_have_text("English")
        steps = ["Chose a language", "Heard the welcome", "Main menu", "Chose: a failed payment",
                 "Asked for a payments agent"]  # fmt: skip
        expect(page.locator("#ivr-path li")).to_have_text(steps)
        expect(page.locator("#call-alert")).to_contain_text("New call: A failed payment")

        # The phone side: alice answers, talks, the caller hangs up.
        center.connected(entry.id)
        expect(page.locator("#agent-state")).to_have_text("On call")
        center.finished(entry.id)
        expect(page.locator("#agent-state")).to_have_text("Wrap up")
        expect(page.locator("#wrap-up")).to_be_visible()
        first = int(page.locator("#wrap-up-left").inner_text())
        page.wait_for_timeout(2100)
        assert int(page.locator("#wrap-up-left").inner_text()) < first  # counting down
        assert page.evaluate("window.notReloaded") is True

        notes = "余额不足导致付款失败，已说明充值方法。"
        page.get_by_label("Disposition").select_option("resolved")
        page.get_by_label("Notes").fill(notes)
        page.get_by_role("button", name="Save and finish").click()
        expect(page.locator("#flash")).to_contain_text("Saved: resolved.")
        expect(page.locator("#agent-state")).to_have_text("Available")
        expect(page.locator("#no-call")).to_be_visible()
    finally:
        page.close()

    with served.hotline.database.connect() as conn:
        saved = conn.execute(
            text(
                "SELECT n.disposition, n.text, a.username FROM agent_notes n "
                "JOIN agents a ON a.id = n.agent_id"
            )
        ).all()
    assert [tuple(row) for row in saved] == [("resolved", notes, "alice")]


def test_the_supervisor_view_follows_queues_and_agents_without_reloading(
    served: Served, browser: Any
) -> None:
    from playwright.sync_api import expect

    center = served.hotline.contact_center
    page = browser.new_page()
    page.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    try:
        page.goto(served.url + "/login")
        page.get_by_label("Username").fill("sam")
        page.get_by_label("Password").fill("sam-demo")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Supervisor").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Supervisor view")
        waiting_rows = page.locator("#waiting-heading + table tbody tr")
        expect(waiting_rows).to_have_text(["Nobody is waiting."])
        page.evaluate("window.notReloaded = true")

        # A caller joins the security queue and bob goes available: both show up.
        center.enqueue(waiting("supervised", "security", 10, reason="security"))
        expect(waiting_rows).to_have_count(1)
        expect(waiting_rows.first).to_contain_text("security")
        bob = next(a for a in center.agents_view() if a.username == "bob")
        center.set_availability(bob.id, True)
        bob_row = page.locator("#agents-heading + table tbody tr", has_text="(bob)")
        expect(bob_row).not_to_contain_text("Offline")
        expect(page.locator("#updated")).to_contain_text("Updated at")
        assert page.evaluate("window.notReloaded") is True
    finally:
        page.close()
