"""A whole shift in a real browser (Debian's chromium, headless, driven by
Playwright) against a real ``ivr serve`` (waitress, the dispatcher and a FastAGI port) on
its own seeded SQLite database. The caller is a scripted Asterisk (``tests/agi_fake.py``)
speaking AGI to that FastAGI port: Chinese, a failed payment, account and PIN, then the
payments team. The agent signs in, turns on call alerts, goes available, pauses for lunch
and comes back, is rung (sound, title, notification), reads the screen pop in words, is
connected (the test plays Asterisk's ``U()`` gosub through ``ContactCenter.connected``, as
the dialplan would), and finishes with a disposition. At the end of the shift the
supervisor lands on the supervisor view, sets the agent offline (her console follows) and
adds a new agent, who signs in. Then the console at 375 px wide: nothing wider than the
screen.

Chinese: the holder's name is 李伟. There is no OCR here, so the test checks the glyphs'
pixels instead: each of 李 and 伟 is drawn on its own in the page's font and photographed;
without a CJK font both would be the same "missing glyph" box, so the two pictures must
differ from each other and from a character no font has (U+10FFFD). Screenshots are
saved to var/test-artifacts/."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from agi_fake import FakeAsterisk, environment
from served import ivr_serve
from sqlalchemy import text
from start_date import OPEN_TIME, clock_environment

from ivr.app.bootstrap import Components, bootstrap
from ivr.app.config import Settings
from ivr.services.clock import RunningClock

# ``browser``: the fixture (Debian's chromium, headless), shared with that module.
from .test_console_browser import FLOW_PATH, ROOT, SECRET, WAIT_MS, _ivr, browser  # noqa: F401

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "var" / "test-artifacts"
#: Chinese; the main menu's 2 (a failed payment); account and PIN (six digits: no #).
#: Then the caller listens to the details, presses 0 at the follow-up menu (the payments
#: team) and holds (listens) until the line ends.
KEYS = "2 ~ 2 ~ 10000001# 246810"
CALL_ID = "1700000777.1"


@dataclass
class Shift:
    url: str
    fastagi: int
    hotline: Components
    process: subprocess.Popen[str]


@pytest.fixture
def shift(tmp_path: Path) -> Iterator[Shift]:
    """``ivr serve --port 0 --fastagi 127.0.0.1:<free>`` on a fresh seeded database whose
    first demo account's holder is written in Chinese."""
    database_url = f"sqlite:///{tmp_path / 'ivr.sqlite3'}"
    clock = RunningClock(OPEN_TIME)
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
    settings = Settings(
        flow_path=FLOW_PATH, database_url=database_url, log_level="WARNING", secret_key=SECRET
    )
    hotline = bootstrap(settings, clock)
    with hotline.database.begin() as conn:
        conn.execute(text("UPDATE accounts SET holder_name = '李伟' WHERE number = '10000001'"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "ivr.app.cli", "serve", "--port", "0",
               "--fastagi", f"127.0.0.1:{port}"]  # fmt: skip
    with ivr_serve(command, env | clock_environment(clock), tmp_path) as serving:
        assert any(f"agi://127.0.0.1:{port}/hotline" in line for line in serving.said)
        yield Shift(serving.url, port, hotline, serving.process)
    hotline.database.dispose()
    assert serving.process.returncode == 0, serving.stopped


class Caller(threading.Thread):
    """Asterisk's side of one FastAGI call: the scripted caller's keys, then holding
    (listening) for as long as the line lasts. ``EXEC Dial`` (the agent's phone rung) is
    held until ``hang_up`` is set: then the talk is over (DIALSTATUS ANSWER)."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        env = environment("fastagi_session.txt", agi_network_script="hotline",
                          agi_uniqueid=CALL_ID, agi_callerid="+8613800138001")  # fmt: skip
        self.fake = FakeAsterisk(KEYS, env=env)
        self.port = port
        self.dialled = threading.Event()
        self.hang_up = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._talk()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def _talk(self) -> None:
        fake = self.fake
        with socket.create_connection(("127.0.0.1", self.port), timeout=60) as sock:
            reader = sock.makefile("r", encoding="utf-8", newline="\n")
            writer = sock.makefile("w", encoding="utf-8", newline="\n")
            writer.write("".join(f"{line}\n" for line in fake.environment) + "\n")
            writer.flush()
            for command in reader:
                if command.startswith("EXEC Dial") or command.startswith("EXEC DIAL"):
                    fake.commands.append(command.rstrip("\n"))
                    self.dialled.set()
                    self.hang_up.wait(60)
                    fake.variables["DIALSTATUS"] = "ANSWER"
                    lines = ["200 result=0"]
                else:
                    if not fake.script:  # listen; 0 for the payments team; silent at questions
                        if command.startswith("STREAM FILE zh/payment_followup "):
                            fake.script.append("0")
                        elif command.startswith("WAIT FOR DIGIT"):
                            fake.script.append("t")
                        else:
                            fake.script.append("~")
                    if command.startswith("STREAM FILE moh/"):
                        self.hang_up.wait(0.3)  # hold music takes time to play
                    lines = fake.reply(command)
                if fake.state == "closed":
                    return
                writer.write("".join(f"{line}\n" for line in lines))
                writer.flush()


def glyph_pictures(page: Any, chars: list[str]) -> list[bytes]:
    """Each character drawn alone, in the screen pop's font, photographed."""
    page.evaluate(
        """(chars) => {
          const box = document.createElement('p');
          box.id = 'glyph-test';
          const font = getComputedStyle(document.querySelector('[data-field=holder_name]')).font;
          for (const c of chars) {
            const span = document.createElement('span');
            span.textContent = c;
            span.style.font = font;
            span.style.fontSize = '40px';
            span.style.display = 'inline-block';
            span.style.padding = '4px';
            box.appendChild(span);
          }
          document.getElementById('desk').appendChild(box);
        }""",
        chars,
    )
    spans = page.locator("#glyph-test span")
    pictures = [spans.nth(i).screenshot() for i in range(len(chars))]
    page.evaluate("document.getElementById('glyph-test').remove()")
    return pictures


def test_an_agents_shift_in_the_browser(shift: Shift, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    center = shift.hotline.contact_center
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["notifications"], origin=shift.url)
    page = context.new_page()
    supervisor, newcomers = browser.new_context(), browser.new_context()
    page.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    # Script errors and CSP refusals (an HTTP refusal the page reads, such as the 404 of
    # "nobody is waiting", is logged by the browser too: not an error of the page).
    broken: list[str] = []
    page.on("pageerror", lambda error: broken.append(str(error)))
    page.on("console", lambda m: m.type == "error" and "status of 404" not in m.text
            and broken.append(m.text))  # fmt: skip
    caller = Caller(shift.fastagi)
    try:
        page.goto(shift.url + "/")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("alice-demo")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Agent console: Alice Martin")
        expect(page.locator("#agent-state")).to_have_text("Offline")
        assert page.locator("#pause-form").is_hidden()  # no pausing while offline

        page.get_by_role("button", name="Turn on call alerts").click()
        expect(page.locator("#alerts-said")).to_have_text("Sound on. Notifications on.")
        page.evaluate("window.notReloaded = true")

        page.get_by_role("button", name="Go available").click()
        expect(page.locator("#agent-state")).to_have_text("Available")
        expect(page.locator("#status-text")).to_have_text(
            "You are available: waiting for the next caller."
        )
        expect(page.locator("#flash")).to_have_text("You are available.")
        expect(page.locator("#take-next")).to_be_visible()

        # A lunch break, and back.
        page.get_by_label("Pause reason").select_option("lunch")
        page.get_by_role("button", name="Pause", exact=True).click()
        expect(page.locator("#agent-state")).to_have_text("Paused")
        expect(page.locator("#status-text")).to_have_text(
            "You are paused (lunch): no calls come to you."
        )
        expect(page.locator("#take-next")).to_be_hidden()
        page.get_by_role("button", name="Go available").click()
        expect(page.locator("#agent-state")).to_have_text("Available")
        expect(page.locator("#flash")).to_have_text("You are available.")
        page.wait_for_function("window.consoleAlerts.live === 'events'")

        # The caller, over FastAGI: the dispatcher offers them to alice.
        caller.start()
        if not caller.dialled.wait(60):
            said = "\n".join(caller.fake.commands)
            (ARTIFACTS / "console-shift-agi.txt").write_text(said, encoding="utf-8")
            pytest.fail(f"the agent's phone was never rung: {caller.error!r}\n{said}")
        expect(page.locator("#agent-state")).to_have_text("Ringing")
        expect(page.locator("#status-text")).to_have_text(
            "A call is ringing: answer it on your phone."
        )
        expect(page.locator("#flash .info")).to_have_count(0)  # "You are available." is gone
        expect(page).to_have_title(re.compile(r"^Ringing — A failed payment, 李伟"))
        page.wait_for_function("window.consoleAlerts.rings >= 1")
        assert page.evaluate("!document.getElementById('ring').paused")
        assert page.evaluate("window.consoleAlerts.notifications") >= 1
        expect(page.locator("#complete-form")).to_be_hidden()
        expect(page.locator("#finish-later")).to_be_visible()

        pop = page.locator("#screen-pop")
        expect(pop.locator('[data-field="holder_name"]')).to_have_text("李伟")
        expect(pop.locator('[data-field="account_status"]')).to_have_text("Active (no. 10000001)")
        expect(pop.locator('[data-field="verification"]')).to_have_text(
            "Verified with account number and PIN."
        )
        expect(pop.locator('[data-field="reason"]')).to_have_text("A failed payment")
        expect(pop.locator('[data-field="language"]')).to_have_text("Chinese (中文)")
        expect(page.locator("#ivr-told")).to_contain_text(
            "Told the caller: payment of ¥89.90 to Fresh Mart failed — insufficient balance."
        )
        steps = page.locator("#ivr-path li").all_inner_texts()
        assert "Looked up the failed payment" in steps and "Verified" in steps, steps
        shown = pop.inner_text()
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", shown), shown  # no raw node ids
        assert "246810" not in page.content()  # never the PIN
        page.screenshot(path=str(ARTIFACTS / "console-ringing.png"), full_page=True)

        li, wei, missing = glyph_pictures(page, ["李", "伟", "\U0010fffd"])
        assert li != wei, "李 and 伟 look the same: no CJK font (both drawn as empty boxes)"
        assert missing not in (li, wei), "李 or 伟 is drawn as a missing glyph"
        pop.locator("dl").screenshot(path=str(ARTIFACTS / "console-screen-pop-zh.png"))

        # Asterisk's U() gosub: alice picked up.
        [entry] = [p.entry for p in center.queue_view() if p.entry.call_id == CALL_ID]
        center.connected(entry.id)
        expect(page.locator("#agent-state")).to_have_text("On call")
        expect(page.locator("#complete-form")).to_be_visible()
        expect(page).not_to_have_title(re.compile("^Ringing"))
        assert page.evaluate("document.getElementById('ring').paused")

        page.locator("body").press("f")  # the shortcut to the end-of-call form
        expect(page.locator("#disposition")).to_be_focused()
        page.locator("#notes").fill("a")  # typed in a field: not a shortcut
        expect(page.locator("#notes")).to_have_value("a")
        expect(page.locator("#shortcuts")).not_to_have_attribute("open", "")

        caller.hang_up.set()  # the talk ends
        expect(page.locator("#agent-state")).to_have_text("Wrap up")
        assert page.evaluate("window.notReloaded") is True

        notes = "余额不足导致付款失败，已说明充值方法。"
        page.get_by_label("Disposition").select_option("resolved")
        page.get_by_label("Notes").fill(notes)
        page.get_by_role("button", name="Save and finish").click()
        expect(page.locator("#flash")).to_contain_text("Saved: resolved.")
        expect(page.locator("#agent-state")).to_have_text("Available")

        page.locator("body").press("?")
        expect(page.locator("#shortcuts")).to_have_attribute("open", "")
        expect(page.locator("#shortcuts")).to_contain_text("Take the next caller")
        page.locator("body").press("a")  # take the next caller: nobody is waiting
        expect(page.locator("#flash .error")).to_have_text(
            "nobody is waiting whom you can take (skills, languages)"
        )
        page.screenshot(path=str(ARTIFACTS / "console-after-call.png"), full_page=True)

        # The end of the shift: the supervisor lands on the supervisor view, sets alice
        # offline (her console follows) and adds a new agent, who signs in.
        boss = supervisor.new_page()
        boss.set_default_timeout(WAIT_MS)
        boss.goto(shift.url + "/login")
        boss.get_by_label("Username").fill("sam")
        boss.get_by_label("Password").fill("sam-demo")
        boss.get_by_role("button", name="Sign in").click()
        expect(boss.get_by_role("heading", level=1)).to_have_text("Supervisor view")
        boss.get_by_role("button", name="Set Alice Martin offline").click()
        expect(boss.locator("#flash")).to_contain_text("Alice Martin is offline.")
        expect(page.locator("#agent-state")).to_have_text("Offline")
        boss.get_by_role("link", name="Agents: add, edit, disable").click()
        boss.get_by_role("link", name="New agent").click()
        boss.get_by_label("Username", exact=True).fill("dana")
        boss.get_by_label("Name", exact=True).fill("Dana Wu")
        boss.get_by_label("payments", exact=True).check()
        boss.get_by_label("zh", exact=True).check()
        boss.get_by_label("PJSIP endpoint").fill("agent-dana")
        boss.get_by_role("button", name="Create agent").click()
        password = boss.locator("#generated-password").inner_text().strip()
        newcomer = newcomers.new_page()
        newcomer.set_default_timeout(WAIT_MS)
        newcomer.goto(shift.url + "/login")
        newcomer.get_by_label("Username").fill("dana")
        newcomer.get_by_label("Password").fill(password)
        newcomer.get_by_role("button", name="Sign in").click()
        expect(newcomer.get_by_role("heading", level=1)).to_have_text("Agent console: Dana Wu")
        newcomer.screenshot(path=str(ARTIFACTS / "console-shift-new-agent.png"), full_page=True)
        assert broken == [], broken
    finally:
        caller.hang_up.set()
        page.close()
        for each in (context, supervisor, newcomers):
            each.close()
    caller.join(30)

    with shift.hotline.database.connect() as conn:
        saved = conn.execute(text("SELECT disposition, text FROM agent_notes")).all()
        paused = conn.execute(text("SELECT detail FROM audit_log WHERE action = 'agent_paused'"))
        reasons = [row[0] for row in paused]
    assert [tuple(row) for row in saved] == [("resolved", notes)]
    assert len(reasons) == 1 and "lunch" in str(reasons[0])


def test_the_console_fits_a_phone(shift: Shift, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    center = shift.hotline.contact_center
    from ivr.services.contact_entries import WaitingCall

    for n, queue in enumerate(("payments", "security", "general")):
        waiting = WaitingCall(
            call_id=f"phone-{n}", queue=queue, priority=5, skill=queue, language="zh",
            caller_id="+8613800138001", account_number="10000001", reason="payment_failure",
            path=("choose_language", "welcome", "main_menu", "payment_intro"),
        )  # fmt: skip
        entry = center.enqueue(waiting)
        if n == 0:
            center.request_callback(entry.id, "+8613800138001")
    context = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    try:
        page.goto(shift.url + "/login")
        page.get_by_label("Username").fill("chen")
        page.get_by_label("Password").fill("chen-demo")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#queue-rows tr")).not_to_have_count(0)
        expect(page.locator("#callback-rows tr")).to_have_count(1)
        page.get_by_role("button", name="Go available").click()
        expect(page.locator("#agent-state")).to_have_text("Ringing")  # chen takes payments
        expect(page.locator("#flash .info")).to_have_count(0)  # not "You are available."
        # Elements hidden for the eye but kept for screen readers (a 1-px clipped box: the
        # cards' column headings, .sr-only) and the skip link (on screen when focused) are
        # off screen on purpose.
        wide = page.evaluate(
            """() => {
              const meant = (el) => {
                for (let e = el; e; e = e.parentElement) {
                  const r = e.getBoundingClientRect();
                  const clipped = getComputedStyle(e).overflow === 'hidden';
                  if (r.width <= 1 && r.height <= 1 && clipped) return true;
                  if (e.classList.contains('skip')) return true;
                }
                return false;
              };
              return [...document.querySelectorAll('body *')]
                 .filter((el) => el.getClientRects().length && !meant(el))
                 .filter((el) => el.getBoundingClientRect().right > innerWidth + 0.5
                                 || el.getBoundingClientRect().left < -0.5)
                 .map((el) => el.tagName + '#' + el.id + '.' + el.className);
            }"""
        )
        assert wide == [], wide
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path=str(ARTIFACTS / "console-375px.png"), full_page=True)
    finally:
        page.close()
        context.close()
