"""The supervisor's tools in a real browser (Debian's chromium, headless, through
Playwright) against ``ivr serve --no-fastagi`` (``test_console_browser``'s ``served``):
a supervisor signs in and lands on the supervisor view, forces a signed-in agent offline,
pauses another, moves a waiting caller to another queue and creates a new agent, who then
signs in. Screenshots of each step go to the test artifacts folder
(``IVR_TEST_ARTIFACTS``, default ``var/test-artifacts``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from .test_console_browser import WAIT_MS, Served, browser, served, waiting

pytestmark = pytest.mark.browser
__all__ = ["browser", "served"]  # the fixtures, used by name

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("IVR_TEST_ARTIFACTS") or ROOT / "var" / "test-artifacts")


def sign_in(page: Any, url: str, username: str, password: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_supervisor_pauses_forces_offline_moves_a_caller_and_adds_an_agent(
    served: Served, browser: Any
) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    center = served.hotline.contact_center
    expect.set_options(timeout=WAIT_MS)
    alice_context, sam_context, new_context = (browser.new_context() for _ in range(3))
    alice, sam, newcomer = (c.new_page() for c in (alice_context, sam_context, new_context))
    for page in (alice, sam, newcomer):
        page.set_default_timeout(WAIT_MS)

    def shot(page: Any, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"supervisor-{name}.png"), full_page=True)

    try:
        # alice signs in and goes available; bob is available from his phone's side.
        sign_in(alice, served.url, "alice", "alice-demo")
        expect(alice.get_by_role("heading", level=1)).to_have_text("Agent console: Alice Martin")
        alice.get_by_role("button", name="Go available").click()
        expect(alice.locator("#agent-state")).to_have_text("Available")
        bob = next(a for a in center.agents_view() if a.username == "bob")
        center.set_availability(bob.id, True)

        # sam lands on the supervisor view.
        sign_in(sam, served.url, "sam", "sam-demo")
        expect(sam.get_by_role("heading", level=1)).to_have_text("Supervisor view")
        assert sam.url.endswith("/supervisor/")
        agents = sam.locator("#agents-heading + table tbody")
        expect(agents.locator("tr", has_text="(alice)")).to_contain_text("Available")
        shot(sam, "1-landed")

        # alice is forced offline: her console says so.
        sam.get_by_role("button", name="Set Alice Martin offline").click()
        expect(sam.locator("#flash")).to_contain_text("Alice Martin is offline.")
        expect(agents.locator("tr", has_text="(alice)")).to_contain_text("Offline")
        expect(alice.locator("#agent-state")).to_have_text("Offline")

        # bob is paused for coaching.
        sam.get_by_label("Pause reason for Bob Okafor").select_option("coaching")
        sam.get_by_role("button", name="Pause Bob Okafor").click()
        expect(sam.locator("#flash")).to_contain_text("Bob Okafor is paused (coaching).")
        expect(agents.locator("tr", has_text="(bob)")).to_contain_text("Paused (Coaching)")
        shot(sam, "2-offline-and-paused")

        # A caller waits in general (nobody free to take it) and is moved to security.
        entry = center.enqueue(waiting("browser-move", "general", 1, reason="lost_phone"))
        rows = sam.locator("#waiting-heading + table tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("general")
        sam.get_by_label(f"Move caller {entry.id} to queue").select_option("security")
        sam.get_by_role("button", name=f"Move caller {entry.id}").click()
        expect(sam.locator("#flash")).to_contain_text(f"Caller {entry.id} moved to security.")
        expect(rows.first).to_contain_text("security")
        moved = center.entry(entry.id)
        assert moved is not None and (moved.queue, moved.skill) == ("security", "security")
        shot(sam, "3-moved")

        # A new agent, with a generated password shown once.
        sam.get_by_role("link", name="Agents: add, edit, disable").click()
        sam.get_by_role("link", name="New agent").click()
        sam.get_by_label("Username", exact=True).fill("nadia")
        sam.get_by_label("Name", exact=True).fill("Nadia Haddad")
        sam.get_by_label("general", exact=True).check()
        sam.get_by_label("security", exact=True).check()
        sam.get_by_label("en", exact=True).check()
        sam.get_by_label("PJSIP endpoint").fill("agent-nadia")
        sam.get_by_role("button", name="Create agent").click()
        expect(sam.get_by_role("heading", level=1)).to_have_text("Nadia Haddad (nadia) is created")
        password = sam.locator("#generated-password").inner_text().strip()
        assert len(password) >= 12
        shot(sam, "4-created")

        # ...who signs in and lands on the agent console.
        sign_in(newcomer, served.url, "nadia", password)
        expect(newcomer.get_by_role("heading", level=1)).to_have_text("Agent console: Nadia Haddad")
        shot(newcomer, "5-new-agent-console")
    finally:
        for context in (alice_context, sam_context, new_context):
            context.close()
