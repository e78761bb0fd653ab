"""The hotline's paths walked by real SIP calls: the branches with the demo accounts (the
four of issue 3 and the latest transactions), invalid keys then recovery, silence to the
retry limit, a hang-up in the middle of the PIN and an unknown account number ended with #
then a wrong PIN.

The calls run at once against the one sandbox (a module fixture starts those of the
selected tests; each test waits for its own call, so the module takes as long as its
longest call, the silent one, about 95 s). Each caller has its own caller id
(``e2e-<name>``): it names the call's record (``call_records.caller_id``) and, through the
dialplan's first NoOp, the call's channel and its lines in Asterisk's log. Each call uses
its own demo account, so their effects on the database cannot meet. When to press is worked
out from the rendered prompts' durations (``timeline``): keys pressed during a ``say`` are
lost.

Assertions read Asterisk's log (what was played, in order, which keys arrived, the dialplan's
queue) and the database (call records, SMS outbox, closure requests, incidents, account
status, verification attempts), not only SIPp's exit code.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.pool import NullPool

from ivr.app.asterisk_sandbox import Sandbox
from ivr.app.bootstrap import load_hotline
from ivr.audio.render import ensure_dynamic
from ivr.audio.speech import steps
from ivr.audio.steps import SayDigits, SayNumber
from ivr.flow import hours
from ivr.flow.actions import Prompt
from ivr.flow.prompts import fill
from ivr.services import wording
from ivr.services.demo import DEMO_ACCOUNTS
from ivr.store.models import Base

from . import sipp
from .conftest import FLOW_PATH, PROMPTS, unavailable
from .sipp import CallResult
from .support import seconds
from .timeline import Digits, Number, Part, Sounds, Timeline

pytestmark = pytest.mark.asterisk

FLOW = load_hotline(FLOW_PATH)
ACCOUNTS = {account.number: account for account in DEMO_ACCOUNTS}
RESET, PAYMENT, CLOSURE, LOCKED_OUT, SECURITY = (ACCOUNTS[f"1000000{n}"] for n in range(1, 6))
# LOCKED_OUT (10000004, already frozen) is the account whose PIN entry is cut short, and
# the one told it is frozen (with the whole PIN).
PARTIAL_PIN = LOCKED_OUT.pin[:3]
UNKNOWN_ACCOUNT, UNKNOWN_PIN = "10000009", "123456"
assert UNKNOWN_ACCOUNT not in ACCOUNTS
#: Verifying (scrypt) and a branch's use case, between the PIN and the next prompt.
USE_CASES = 0.3
#: How long a call may take beyond its timeline before the test gives up on it.
SLACK = 40.0
#: A queued caller is held by the controller: hold music on the call's channel.
HELD = r"<{channel}> Playing 'moh/hold-\d\."


# -- the flow, as a caller hears it -------------------------------------------------------


def node(name: str) -> Any:
    return FLOW.nodes[name]


def ask(name: str) -> tuple[Part, ...]:
    """An input node's prompts (plain recordings)."""
    return tuple(node(name).prompts)


def timeout(name: str) -> float:
    return float(node(name).timeout)


def spoken(prompt_id: str, **values: str) -> list[Part]:
    """A prompt with values as the driver plays it (the product's own ``speech.steps``)."""
    template = FLOW.catalog.text(prompt_id, "en")
    assert template is not None, prompt_id
    prompt = Prompt(prompt_id, "en", fill(template, values), values)
    # A free-text value (a merchant's name) is rendered now, as the hotline would at call
    # time: the call then plays the same file and its length is known here.
    free_text = lambda text, language: ensure_dynamic(text, language, PROMPTS)  # noqa: E731
    parts: list[Part] = []
    for step in steps(prompt, free_text, template=template):
        if isinstance(step, SayDigits):
            parts.append(Digits(step.digits))
        elif isinstance(step, SayNumber):
            parts.append(Number(step.number))
        else:
            parts.append(step.name.removeprefix("en/"))
    return parts


def english(tl: Timeline) -> Timeline:
    """1 for English during the language menu, then the (not interruptible) welcome."""
    return tl.press("1", *ask("choose_language"), timeout=timeout("choose_language")).play(
        "welcome"
    )


def main_menu(tl: Timeline, key: str, intro: str) -> Timeline:
    return tl.press(key, *ask("main_menu"), timeout=timeout("main_menu")).play(intro)


def identify(tl: Timeline, account: str, pin: str) -> Timeline:
    """The account number and # (as enter_account_number asks), then the PIN."""
    tl.press(account + "#", *ask("ask_account"), timeout=timeout("ask_account"))
    return tl.press(pin, *ask("ask_pin"), timeout=timeout("ask_pin")).pause(USE_CASES)


# -- the calls ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What a caller does: the keys, when to hang up, and what ends the call."""

    timeline: Timeline
    hang_up_at: float  # seconds from the start; the caller hangs up then at the latest
    #: A line of the call's log after which the test hangs the channel up (a queue).
    until: str | None = None


def reset_plan(tl: Timeline) -> Plan:
    """Password reset with 10000001: code texted, then 9 (all set) at anything_else."""
    main_menu(english(tl), "1", "reset_intro")
    identify(tl, RESET.number, RESET.pin)
    tl.play(*spoken("reset_code_sent", phone_last4=RESET.phone[-4:]))
    tl.press("9", *ask("anything_else"), timeout=timeout("anything_else"))
    return Plan(tl, tl.now + tl.seconds("goodbye") + SLACK)


def payment_plan(tl: Timeline) -> Plan:
    """Payment failure with 10000002 (risk-control hold), then 9 at the follow-up menu."""
    assert PAYMENT.failed_payment is not None
    amount, merchant, when, reason = PAYMENT.failed_payment
    main_menu(english(tl), "2", "payment_intro")
    identify(tl, PAYMENT.number, PAYMENT.pin)
    tl.play(
        *spoken(
            "payment_failed_summary",
            amount=wording.money(amount, PAYMENT.currency, "en"),
            merchant=merchant,
            date=wording.day(when, "en"),
        ),
        f"payment_reason_{reason}",
    )
    tl.press("9", *ask("payment_followup"), timeout=timeout("payment_followup"))
    return Plan(tl, tl.now + tl.seconds("goodbye") + SLACK)


def closure_plan(tl: Timeline) -> Plan:
    """Closure with 10000003 (zero balance): 1 at both confirmations; the reference is read."""
    main_menu(english(tl), "3", "closure_intro")
    identify(tl, CLOSURE.number, CLOSURE.pin)
    tl.press("1", *ask("closure_confirm_first"), timeout=timeout("closure_confirm_first"))
    tl.press("1", *ask("closure_confirm_final"), timeout=timeout("closure_confirm_final"))
    reference = Digits("?" * 8)
    tl.play("closure_done.1", reference, "closure_done.2", reference, "goodbye")
    return Plan(tl, tl.now + SLACK)


def security_plan(tl: Timeline) -> Plan:
    """Fraud report with 10000005 (active): frozen, incident read, security queue."""
    main_menu(english(tl), "4", "security_intro")
    identify(tl, SECURITY.number, SECURITY.pin)
    tl.play("account_frozen.1", Digits("?" * 8), "transferring_to_security")
    return Plan(tl, tl.now + SLACK, until=HELD)


def transactions_plan(tl: Timeline) -> Plan:
    """The latest transactions with 10000002 (three: the failed payment, two completed
    ones), then 9. The payment call uses the account too, and only reads."""
    assert PAYMENT.failed_payment is not None
    amount, merchant, when, _ = PAYMENT.failed_payment
    main_menu(english(tl), "6", "transactions_intro")
    identify(tl, PAYMENT.number, PAYMENT.pin)
    tl.play("recent_last_three")
    for n, status in ((1, "failed"), (2, "completed"), (3, "completed")):
        minor = amount if n == 1 else amount // n  # as ivr.store.seed writes them
        at = when if n == 1 else when - timedelta(days=3 * (n - 1))
        values = {
            f"tx{n}_amount": wording.money(minor, PAYMENT.currency, "en"),
            f"tx{n}_merchant": merchant,
            f"tx{n}_date": wording.day(at, "en"),
        }
        tl.play(*spoken(f"recent_tx{n}", **values), f"transaction_status_{status}")
    tl.press("9", *ask("recent_menu"), timeout=timeout("recent_menu"))
    return Plan(tl, tl.now + tl.seconds("goodbye") + SLACK)


def frozen_plan(tl: Timeline) -> Plan:
    """Payment failure with 10000004 (frozen): told so on the way to security. The caller
    hangs up while it is said, so that the security call keeps the queue's first place."""
    main_menu(english(tl), "2", "payment_intro")
    identify(tl, LOCKED_OUT.number, LOCKED_OUT.pin)
    told = tl.now
    tl.play("account_is_frozen")
    return Plan(tl, told + tl.seconds("account_is_frozen") / 2)


def invalid_plan(tl: Timeline) -> Plan:
    """5 at the language menu, 7 and 9 at the main menu (invalid), then 2; the caller hangs
    up while the account number is asked for."""
    tl.press("5", *ask("choose_language"), timeout=timeout("choose_language"))
    tl.press("1", "invalid_choice", *ask("choose_language"), timeout=timeout("choose_language"))
    tl.play("welcome")
    tl.press("7", *ask("main_menu"), timeout=timeout("main_menu"))
    tl.press("9", "invalid_choice", *ask("main_menu"), timeout=timeout("main_menu"))
    tl.press("2", "invalid_choice", *ask("main_menu"), timeout=timeout("main_menu"))
    tl.play("payment_intro")
    return Plan(tl, tl.now + tl.seconds(*ask("ask_account")) + 2.0)


def silent_plan(tl: Timeline) -> Plan:
    """No key at all: both language tries, English, three main menu tries, on_failure."""
    tl.silence(*ask("choose_language"), timeout=timeout("choose_language"))
    tl.silence("no_input", *ask("choose_language"), timeout=timeout("choose_language"))
    tl.play("welcome")
    tl.silence(*ask("main_menu"), timeout=timeout("main_menu"))
    for _ in range(node("main_menu").retries):
        tl.silence("no_input", *ask("main_menu"), timeout=timeout("main_menu"))
    tl.play("after_hours")  # the longer way to the general queue (outside opening hours)
    # After hours the controller asks for a number to call back first (the caller id is not
    # one): two silent tries at the callback dialogue, then hold music.
    return Plan(tl, tl.now + SLACK + 30, until=HELD)


def pin_hang_up_plan(tl: Timeline) -> Plan:
    """Password reset with 10000004: the account number, 3 of the 6 PIN digits, hang up."""
    main_menu(english(tl), "1", "reset_intro")
    tl.press(LOCKED_OUT.number + "#", *ask("ask_account"), timeout=timeout("ask_account"))
    tl.press(PARTIAL_PIN, *ask("ask_pin"), timeout=timeout("ask_pin"))
    return Plan(tl, tl.now + 2.5)


def hash_key_plan(tl: Timeline) -> Plan:
    """An unknown account number then # (as enter_account_number asks), a wrong PIN: the
    verification fails, verify_retry, and the caller hangs up at the account number again."""
    main_menu(english(tl), "1", "reset_intro")
    tl.press(UNKNOWN_ACCOUNT + "#", *ask("ask_account"), timeout=timeout("ask_account"))
    tl.press(UNKNOWN_PIN, *ask("ask_pin"), timeout=timeout("ask_pin")).pause(USE_CASES)
    tl.play("verify_retry")
    return Plan(tl, tl.now + tl.seconds(*ask("ask_account")) + 2.0)


PLANS: dict[str, Callable[[Timeline], Plan]] = {
    "reset": reset_plan,
    "payment": payment_plan,
    "closure": closure_plan,
    "security": security_plan,
    "transactions": transactions_plan,
    "frozen": frozen_plan,
    "invalid": invalid_plan,
    "silent": silent_plan,
    "pin-hang-up": pin_hang_up_plan,
    "hash-key": hash_key_plan,
}

Test = Callable[..., None]


def placing(name: str) -> Callable[[Test], Test]:
    """The test reads the call ``name`` (only the calls of selected tests are made)."""

    def mark(test: Test) -> Test:
        test.call = name  # type: ignore[attr-defined]
        return test

    return mark


@dataclass(frozen=True)
class Call:
    """One finished call: SIPp's result, its lines of Asterisk's log, its record."""

    caller: str
    plan: Plan
    result: CallResult
    channel: str
    log: str
    record: dict[str, Any]

    def played(self) -> list[str]:
        """Every hotline prompt and Asterisk digit sound played, in order."""
        names = re.findall(r"Playing '(.+)\.[a-z0-9]+' \(", self.log)
        return [name for name in names if name.startswith(("en/", "zh/", "digits/"))]

    def keys(self) -> str:
        return "".join(re.findall(r"DTMF end '(.)' received", self.log))

    def executed(self, application: str, argument: str) -> bool:
        line = f'] {application}("{self.channel}", "{argument}")'
        return line in self.log

    def moments(self, name: str) -> list[float]:
        """When each ``Playing '<name>...'`` line was logged (seconds since the epoch)."""
        found = re.findall(
            rf"^\[([^\]]+)\].*Playing '{re.escape(name)}\.[a-z0-9]+' \(", self.log, re.M
        )
        return [datetime.fromisoformat(stamp).timestamp() for stamp in found]

    def why(self) -> str:
        """The call in short, for an assertion message: the presses, then what Asterisk
        played, heard and ran."""
        shown = []
        for line in self.log.splitlines():
            found = re.match(r"\[[\d-]+ ([\d:.]+)\] (\w+)\[\d+\](?:\[C-\w+\])? (.*)$", line)
            if found is None:
                continue
            moment, level, message = found.groups()
            if "Playing" in message or "DTMF end '" in message or "Executing" in message:
                shown.append(f"{moment} {message.split(': ', 1)[-1]}")
            elif level in ("WARNING", "ERROR"):
                shown.append(f"{moment} {level} {message}")
        return (
            f"caller {self.caller} on {self.channel}: presses {self.plan.timeline.presses()}, "
            f"hangs up at {self.plan.hang_up_at:.1f}s\n"
            + "".join(f"{late}\n" for late in self.late())
            + "\n".join(shown[-60:])
        )

    def late(self) -> list[str]:
        """Prompts that took much longer than their recording: Asterisk did not get the CPU
        to play in real time, and keys timed from the recordings fall in the wrong place."""
        out = []
        started: tuple[float, str] | None = None
        for line in self.log.splitlines():
            stamp = re.match(r"\[([^\]]+)\]", line)
            if stamp is None or ("Playing '" not in line and "Executing" not in line):
                continue
            moment = datetime.fromisoformat(stamp.group(1)).timestamp()
            if started is not None:
                recording = PROMPTS / f"{started[1]}.wav"
                length = seconds(recording) if recording.exists() else None
                if length is not None and moment - started[0] > length + 1.0:
                    out.append(
                        f"SLOW: {started[1]} ({length:.1f}s) played for "
                        f"{moment - started[0]:.1f}s (is the machine overloaded?)"
                    )
                started = None
            say = re.search(r"Playing '(.+)\.[a-z0-9]+' \(escape_digits=\)", line)
            if say:
                started = (moment, say.group(1))
        return out


def spoken_digits(played: list[str], after: str, before: str | None = None) -> str:
    """The digits Asterisk said between the prompts ``after`` and ``before``."""
    start = played.index(after) + 1
    end = played.index(before, start) if before else len(played)
    return "".join(name.removeprefix("digits/") for name in played[start:end])


def wait_for(what: str, probe: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout:.0f}s")
        time.sleep(0.2)


def place(sandbox: Sandbox, folder: Path, name: str, plan: Plan, mark: int) -> Call:
    """Make the call, end it as planned, and gather what it left behind."""
    caller_id = f"e2e-{name}"
    tl = plan.timeline
    hold = tl.hold_until(plan.hang_up_at) if tl.keys else plan.hang_up_at
    caller = sipp.start(sandbox.sip_port, tl.presses(), hold, folder / name, caller=caller_id)
    channel = ""
    try:
        first = (
            r"\[(C-[0-9a-f]+)\] pbx\.c: Executing \[[^]]+\] "
            rf'NoOp\("(PJSIP/caller-[0-9a-f]+)", "Wallet hotline call from "[^"]*" <{caller_id}>"\)'
        )

        def opening() -> re.Match[str] | None:
            return re.search(first, sandbox.log_text()[mark:])

        found = wait_for(f"call from {caller_id} in Asterisk's log", opening, 20)
        tag, channel = found.group(1), found.group(2)

        def lines() -> str:
            kept = [
                line
                for line in sandbox.log_text()[mark:].splitlines()
                if f"[{tag}]" in line or channel in line
            ]
            return "\n".join(kept)

        if plan.until:
            ending = plan.until.format(channel=re.escape(channel))
            wait_for(ending, lambda: re.search(ending, lines()), plan.hang_up_at + 10)
            sandbox.rx(f"channel request hangup {channel}")
        result = caller.wait()
    finally:
        if caller.process.poll() is None:  # a failure above: do not leave the call up
            if channel:
                sandbox.rx(f"channel request hangup {channel}")
            else:
                caller.process.kill()
            caller.wait()

    def record() -> dict[str, Any] | None:
        rows = [r for r in table(sandbox, "call_records") if r["caller_id"] == caller_id]
        assert len(rows) <= 1, rows
        return rows[0] if rows and rows[0]["outcome"] is not None else None  # once closed

    kept = wait_for(f"call record for {caller_id}", record, 15)
    time.sleep(0.5)  # the last lines of the call reach the log
    return Call(caller_id, plan, result, channel, lines(), kept)


@pytest.fixture(scope="module")
def calls(
    request: pytest.FixtureRequest,
    sandbox: Sandbox,
    prompt_audio: str | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Future[Call]]]:
    """The calls of this module's selected tests, started at once; each test waits for
    its own."""
    wanted = {
        getattr(item.function, "call", None)
        for item in request.session.items
        if isinstance(item, pytest.Function) and item.module is request.module
    }
    if prompt_audio:
        unavailable(f"the hotline would be silent: {prompt_audio}")
    sandbox.start_fastagi()
    sounds = Sounds(PROMPTS / "en", sandbox.run / "data" / "sounds" / "en" / "digits")
    folder = tmp_path_factory.mktemp("branches")
    mark = len(sandbox.log_text())
    with ThreadPoolExecutor(len(PLANS)) as pool:
        futures = {
            name: pool.submit(place, sandbox, folder, name, make(Timeline(sounds)), mark)
            for name, make in PLANS.items()
            if name in wanted
        }
        yield futures


# -- the database ------------------------------------------------------------------------


def table(sandbox: Sandbox, name: str) -> list[dict[str, Any]]:
    """A table's rows, with the product's column types (times, JSON) where it has a model."""
    engine = create_engine(sandbox.settings.database_url, poolclass=NullPool)
    known = Base.metadata.tables.get(name)
    query = select(known) if known is not None else text(f'SELECT * FROM "{name}"')
    try:
        with engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]
    finally:
        engine.dispose()


def rows(sandbox: Sandbox, name: str, **where: Any) -> list[dict[str, Any]]:
    return [r for r in table(sandbox, name) if all(r[k] == v for k, v in where.items())]


def everywhere(sandbox: Sandbox, digits: str) -> list[str]:
    """Every cell of every table holding ``digits`` as a whole (not inside a longer run of
    letters and digits, such as a hash or a time)."""
    engine = create_engine(sandbox.settings.database_url, poolclass=NullPool)
    names = inspect(engine).get_table_names()
    engine.dispose()
    pattern = re.compile(rf"(?<![0-9A-Za-z]){re.escape(digits)}(?![0-9A-Za-z])")
    return [
        f"{name}.{column} = {value!r}"
        for name in names
        for row in table(sandbox, name)
        for column, value in row.items()
        if value is not None and pattern.search(str(value))
    ]


def verifications(sandbox: Sandbox, call: Call) -> list[dict[str, Any]]:
    return rows(sandbox, "verification_attempts", call_id=call.record["call_id"])


def audit(sandbox: Sandbox, call: Call) -> list[str]:
    return [r["action"] for r in rows(sandbox, "audit_log", call_id=call.record["call_id"])]


# -- the tests ---------------------------------------------------------------------------


@placing("reset")
def test_password_reset_texts_a_code(
    fastagi_sandbox: Sandbox, calls: dict[str, Future[Call]]
) -> None:
    call = calls["reset"].result()
    why = call.why()
    assert call.result.ok, call.result.errors
    assert call.result.hung_up_by == "hotline", why
    assert call.played() == [
        "en/choose_language",
        "en/welcome",
        "en/main_menu",
        "en/reset_intro",
        "en/enter_account_number",
        "en/enter_pin",
        "en/reset_code_sent.1",
        *(f"digits/{d}" for d in RESET.phone[-4:]),
        "en/reset_code_sent.2",
        "en/anything_else",
        "en/goodbye",
    ], why
    assert call.keys() == "11" + RESET.number + "#" + RESET.pin + "9", why

    record = call.record
    assert record["outcome"] == "solved", record
    assert record["last_node"] == "goodbye", record
    assert record["reason"] == "password_reset", record
    assert record["account_number"] == RESET.number, record
    assert record["language"] == "en" and record["channel"] == "fastagi", record
    sms = rows(fastagi_sandbox, "sms_outbox", to=RESET.phone)
    assert len(sms) == 1, sms
    assert sms[0]["status"] == "queued", sms
    code = re.findall(r"\d{6}", sms[0]["body"])
    assert len(code) == 1, sms  # the code is texted, never said: not in Asterisk's log
    resets = rows(fastagi_sandbox, "password_resets", account_number=RESET.number)
    assert len(resets) == 1 and resets[0]["used_at"] is None, resets
    assert resets[0]["expires_at"] - resets[0]["created_at"] == timedelta(minutes=15), resets
    attempts = verifications(fastagi_sandbox, call)
    assert [(a["account_number"], a["ani"], a["succeeded"]) for a in attempts] == [
        (RESET.number, call.caller, True)
    ], attempts
    assert "reset_code_sent" in audit(fastagi_sandbox, call)
    assert everywhere(fastagi_sandbox, RESET.pin) == []


@placing("payment")
def test_payment_failure_gives_the_reason(
    fastagi_sandbox: Sandbox, calls: dict[str, Future[Call]]
) -> None:
    call = calls["payment"].result()
    why = call.why()
    assert call.result.ok, call.result.errors
    assert call.result.hung_up_by == "hotline", why
    played = call.played()
    assert played[:6] == [
        "en/choose_language",
        "en/welcome",
        "en/main_menu",
        "en/payment_intro",
        "en/enter_account_number",
        "en/enter_pin",
    ], why
    assert played[6] == "en/payment_failed_summary.1", why
    # The amount (450 dollars) and the date (November 21) are said between the segments.
    summary = played[6 : played.index("en/payment_reason_risk_control_hold")]
    assert summary[1:4] == ["digits/4", "digits/hundred", "digits/50"], why
    assert "en/_fragments/currency_usd" in summary and "en/_fragments/month_11" in summary, why
    merchant = ensure_dynamic(PAYMENT.failed_payment[1], "en", PROMPTS).name
    assert merchant.startswith("en/_dynamic/") and merchant in summary, why  # its name is said
    assert summary[-2:] == ["digits/20", "digits/1"], why
    assert played[len(summary) + 6 :] == [
        "en/payment_reason_risk_control_hold",
        "en/payment_followup",
        "en/goodbye",
    ], why
    reason = "Playing 'en/payment_reason_risk_control_hold.slin' (escape_digits=0123456789*#)"
    assert reason in call.log, why  # a say before a question: a key would be typed ahead
    assert call.keys() == "12" + PAYMENT.number + "#" + PAYMENT.pin + "9", why

    record = call.record
    assert record["reason"] == "payment_failure", record
    assert record["outcome"] == "solved" and record["last_node"] == "goodbye", record
    assert record["account_number"] == PAYMENT.number, record
    assert "payment_details" in record["path"] and "payment_followup" in record["path"], record
    assert audit(fastagi_sandbox, call) == ["failed_payment_looked_up"]
    attempts = verifications(fastagi_sandbox, call)
    assert [(a["account_number"], a["succeeded"]) for a in attempts] == [(PAYMENT.number, True)], (
        attempts
    )
    assert rows(fastagi_sandbox, "accounts", number=PAYMENT.number)[0]["status"] == "active"


@placing("closure")
def test_closure_confirmed_twice_closes_the_account(
    fastagi_sandbox: Sandbox, calls: dict[str, Future[Call]]
) -> None:
    call = calls["closure"].result()
    why = call.why()
    assert call.result.ok, call.result.errors
    assert call.result.hung_up_by == "hotline", why
    account = rows(fastagi_sandbox, "accounts", number=CLOSURE.number)
    assert account[0]["status"] == "closed", account
    requests = rows(fastagi_sandbox, "closure_requests", account_number=CLOSURE.number)
    assert len(requests) == 1, requests
    request = requests[0]
    assert request["call_id"] == call.record["call_id"], request
    assert request["confirmations"] == 2 and request["closed_at"] is not None, request
    reference = request["reference"]
    assert reference is not None and re.fullmatch(r"\d{8}", reference), request

    played = call.played()
    assert played[:8] == [
        "en/choose_language",
        "en/welcome",
        "en/main_menu",
        "en/closure_intro",
        "en/enter_account_number",
        "en/enter_pin",
        "en/closure_confirm_first",
        "en/closure_confirm_final",
    ], why
    # SAY DIGITS of the reference, twice ("... is <ref>. Once more, that's <ref>.")
    assert spoken_digits(played, "en/closure_done.1", "en/closure_done.2") == reference, why
    assert spoken_digits(played, "en/closure_done.2", "en/goodbye") == reference, why
    assert played[-1] == "en/goodbye", why
    assert call.keys() == "13" + CLOSURE.number + "#" + CLOSURE.pin + "11", why

    record = call.record
    assert record["outcome"] == "solved" and record["last_node"] == "goodbye", record
    assert record["reason"] == "account_closure", record
    assert record["account_number"] == CLOSURE.number, record
    assert ["closure_confirm_first", "closure_record", "closure_confirm_final"] == [
        n for n in record["path"] if n.startswith("closure_confirm") or n == "closure_record"
    ], record
    assert audit(fastagi_sandbox, call) == [
        "closure_checked",
        "closure_confirmed",
        "account_closed",
    ]


@placing("security")
def test_fraud_report_freezes_and_queues_for_security(
    fastagi_sandbox: Sandbox, calls: dict[str, Future[Call]]
) -> None:
    call = calls["security"].result()
    why = call.why()
    assert call.result.ok, call.result.errors
    assert call.result.hung_up_by == "hotline", why  # the test hung up the queued call
    account = rows(fastagi_sandbox, "accounts", number=SECURITY.number)
    assert account[0]["status"] == "frozen", account
    incidents = rows(fastagi_sandbox, "security_incidents", account_number=SECURITY.number)
    assert len(incidents) == 1, incidents
    incident = incidents[0]
    assert incident["kind"] == "fraud_report" and incident["status"] == "open", incident
    assert incident["call_id"] == call.record["call_id"], incident

    played = call.played()
    assert played[:6] == [
        "en/choose_language",
        "en/welcome",
        "en/main_menu",
        "en/security_intro",
        "en/enter_account_number",
        "en/enter_pin",
    ], why
    assert (
        spoken_digits(played, "en/account_frozen.1", "en/transferring_to_security")
        == incident["reference"]
    ), why
    held = played[played.index("en/transferring_to_security") + 1 :]
    assert held[:3] == ["en/queue_position.1", "digits/1", "en/queue_position.2"], why
    assert "Playing 'moh/hold-1." in call.log, why  # held by the controller, not app_queue
    assert not call.executed("Queue", "hotline-security"), why
    entry = rows(fastagi_sandbox, "queue_entries", call_id=call.record["call_id"])
    assert [(e["queue"], e["priority"], e["skill"]) for e in entry] == [
        ("security", 10, "security")
    ], entry
    assert entry[0]["account_number"] == SECURITY.number, entry
    assert entry[0]["state"] == "abandoned", entry  # the test hung up while it waited

    record = call.record
    assert record["outcome"] == "queued" and record["queue"] == "security", record
    assert record["reason"] == "security" and record["last_node"] == "security_queue", record
    assert record["account_number"] == SECURITY.number, record
    assert audit(fastagi_sandbox, call) == ["account_frozen", "queue_entered"]


@placing("transactions")
def test_the_latest_transactions_are_read(
    fastagi_sandbox: Sandbox, calls: dict[str, Future[Call]]
) -> None:
    call = calls["transactions"].result()
    why = call.why()
    assert call.result.ok, call.result.errors
    assert call.result.hung_up_by == "hotline", why
    played = call.played()
    assert played[:6] == [
        "en/choose_language",
        "en/welcome",
        "en/main_menu",
        "en/transactions_intro",
        "en/enter_account_number",
        "en/enter_pin",
    ], why
    assert played[6] == "en/recent_last_three", why
    for n in (1, 2, 3):  # each transaction's sentence, its values said between its segments
        assert any(name.startswith(f"en/recent_tx{n}.") for name in played), why
    merchant = ensure_dynamic(PAYMENT.failed_payment[1], "en", PROMPTS).name  # type: ignore[index]
    assert played.count(merchant) == 3, why
    statuses = [name for name in played if name.startswith("en/transaction_status_")]
    assert statuses == [
        "en/transaction_status_failed",
        "en/transaction_status_completed",
        "en/transaction_status_completed",
    ], why
    assert played[-2:] == ["en/recent_followup", "en/goodbye"], why
    # 450, then 225 and 150 dollars: each amount is said, in order
    hundreds = [played[i - 1] for i, name in enumerate(played) if name == "digits/hundred"]
    assert hundreds[:3] == ["digits/4", "digits/2", "digits/1"], why
    assert call.keys() == "16" + PAYMENT.number + "#" + PAYMENT.pin + "9", why

    record = call.record
    assert record["reason"] == "transactions", record
    assert record["outcome"] == "solved" and record["last_node"] == "goodbye", record
    assert record["account_number"] == PAYMENT.number, record
    assert "recent_three" in record["path"] and "recent_menu" in record["path"], record
    assert audit(fastagi_sandbox, call) == ["transactions_read"]
    assert everywhere(fastagi_sandbox, PAYMENT.pin) == []


@placing("frozen")
def test_a_frozen_account_hears_it_is_frozen(
    fastagi_sandbox: Sandbox, calls: dict[str, Future[Call]]
) -> None:
    call = calls["frozen"].result()
    why = call.why()
    assert call.result.ok, call.result.errors
    assert call.result.hung_up_by == "caller", why
    assert call.played()[:7] == [
        "en/choose_language",
        "en/welcome",
        "en/main_menu",
        "en/payment_intro",
        "en/enter_account_number",
        "en/enter_pin",
        "en/account_is_frozen",
    ], why
    assert not any(name.startswith("en/payment_failed") for name in call.played()), why
    assert call.keys() == "12" + LOCKED_OUT.number + "#" + LOCKED_OUT.pin, why

    record = call.record
    assert record["reason"] == "payment_failure", record
    assert record["account_number"] == LOCKED_OUT.number, record
    assert "account_is_frozen" in record["path"] and "payment_lookup" not in record["path"], record
    assert "failed_payment_looked_up" not in audit(fastagi_sandbox, call)
    attempts = verifications(fastagi_sandbox, call)
    assert [(a["account_number"], a["succeeded"]) for a in attempts] == [
        (LOCKED_OUT.number, True)
    ], attempts
    assert rows(fastagi_sandbox, "accounts", number=LOCKED_OUT.number)[0]["status"] == "frozen"
    assert everywhere(fastagi_sandbox, LOCKED_OUT.pin) == []


@placing("invalid")
def test_invalid_keys_then_a_valid_choice(
    fastagi_sandbox: Sandbox, calls: dict[str, Future[Call]]
) -> None:
    call = calls["invalid"].result()
    why = call.why()
    assert call.result.ok, call.result.errors
    assert call.result.hung_up_by == "caller", why
    assert call.keys() == "51792", why
    assert call.played() == [
        "en/choose_language",
        "en/invalid_choice",  # 5
        "en/choose_language",
        "en/welcome",  # 1
        "en/main_menu",
        "en/invalid_choice",  # 7
        "en/main_menu",
        "en/invalid_choice",  # 9
        "en/main_menu",
        "en/payment_intro",  # 2, on the last try
        "en/enter_account_number",
    ], why

    record = call.record
    assert record["outcome"] == "abandoned" and record["last_node"] == "ask_account", record
    assert record["reason"] == "payment_failure" and record["account_number"] is None, record
    assert record["path"] == [
        "choose_language",
        "welcome",
        "main_menu",
        "payment_intro",
        "identify",
        "ask_account",
    ], record
    assert verifications(fastagi_sandbox, call) == []


@placing("silent")
def test_silence_runs_out_the_retries_to_an_agent(
    fastagi_sandbox: Sandbox, calls: dict[str, Future[Call]]
) -> None:
    call = calls["silent"].result()
    why = call.why()
    assert call.result.ok, call.result.errors
    assert call.result.hung_up_by == "hotline", why  # the test hung up the queued call
    assert call.keys() == "", why
    record = call.record
    opened = hours.route(node("agent_hours"), record["started_at"].timestamp()) == "agent"
    tail = ["en/transferring_to_agent"] if opened else ["en/after_hours"]
    assert call.played()[:10] == [
        "en/choose_language",
        "en/no_input",
        "en/choose_language",  # language retries used up: the default, English
        "en/welcome",
        "en/main_menu",
        "en/no_input",
        "en/main_menu",
        "en/no_input",
        "en/main_menu",  # main menu retries used up: on_failure, an agent
        *tail,
    ], why
    # Each retry came after the whole timeout: the prompt, then the flow's wait.
    language, menu = call.moments("en/choose_language"), call.moments("en/main_menu")
    no_input = call.moments("en/no_input")
    for heard, retry, prompt in [
        (language[0], no_input[0], "choose_language"),
        (menu[0], no_input[1], "main_menu"),
        (menu[1], no_input[2], "main_menu"),
    ]:
        expected = seconds(PROMPTS / "en" / f"{prompt}.wav") + timeout(prompt)
        assert expected - 0.3 <= retry - heard <= expected + 1.5, (prompt, retry - heard, why)
    if not opened:  # callback only: the caller id is not a number, none was typed
        after = call.played()[10:]
        assert after[:2] == ["en/callback_enter_number", "en/callback_enter_number"], why
        assert after[2] == "en/callback_unavailable", why
    assert "Playing 'moh/hold-1." in call.log, why  # then held by the controller
    entry = rows(fastagi_sandbox, "queue_entries", call_id=record["call_id"])
    assert [(e["queue"], e["kind"], e["state"]) for e in entry] == [
        ("general", "call", "abandoned")
    ], entry

    assert record["outcome"] == "queued" and record["queue"] == "general", record
    assert record["language"] == "en" and record["reason"] is None, record
    assert record["last_node"] == ("agent" if opened else "agent_callback"), record
    assert "agent_hours" in record["path"] and record["account_number"] is None, record


@placing("pin-hang-up")
def test_hang_up_during_the_pin_leaves_no_trace_of_it(
    fastagi_sandbox: Sandbox, calls: dict[str, Future[Call]]
) -> None:
    call = calls["pin-hang-up"].result()
    why = call.why()
    assert call.result.ok, call.result.errors
    assert call.result.hung_up_by == "caller", why
    assert call.played()[-2:] == ["en/enter_account_number", "en/enter_pin"], why
    assert call.keys() == "11" + LOCKED_OUT.number + "#" + PARTIAL_PIN, why

    record = call.record
    assert record["outcome"] == "abandoned" and record["last_node"] == "ask_pin", record
    assert record["reason"] == "password_reset" and record["account_number"] is None, record
    assert verifications(fastagi_sandbox, call) == []
    tried = rows(fastagi_sandbox, "verification_attempts", account_number=LOCKED_OUT.number)
    assert all(a["succeeded"] for a in tried), tried  # the frozen call's, when it is made
    assert audit(fastagi_sandbox, call) == []
    assert everywhere(fastagi_sandbox, PARTIAL_PIN) == []
    assert rows(fastagi_sandbox, "accounts", number=LOCKED_OUT.number)[0]["status"] == "frozen"


@placing("hash-key")
def test_account_number_then_hash_as_the_prompt_asks(
    fastagi_sandbox: Sandbox, calls: dict[str, Future[Call]]
) -> None:
    call = calls["hash-key"].result()
    why = call.why()
    assert call.result.ok, call.result.errors
    assert call.keys() == "11" + UNKNOWN_ACCOUNT + "#" + UNKNOWN_PIN, why
    attempts = verifications(fastagi_sandbox, call)
    assert [(a["account_number"], a["succeeded"]) for a in attempts] == [
        (UNKNOWN_ACCOUNT, False)
    ], why
    assert call.played()[-4:] == [
        "en/enter_account_number",
        "en/enter_pin",
        "en/verify_retry",
        "en/enter_account_number",
    ], why
    assert call.record["outcome"] == "abandoned", call.record
    assert call.record["last_node"] == "ask_account", call.record
