"""Issue 13, items 7 and 8, on a real database (SQLite and PostgreSQL): the caller's own
latest transactions read back after verification, a frozen account sent to security, a
closed account's owner told so, and the database going away during the lookup."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from outage import Outage

from integration.support import (
    CHEN_JIE,
    FLOW_PATH,
    OMAR,
    OPEN_UTC,
    ZHANG_MIN,
    Db,
    StoppedClock,
    Summary,
    assert_recorded,
    enqueued,
    ivr_call,
    outcomes,
    said,
    texts,
    use_case,
)
from ivr.app.bootstrap import Components, bootstrap
from ivr.app.config import Settings
from ivr.flow.events import Digits
from ivr.flow.state import CallStart
from ivr.services import ports
from ivr.store.account_repositories import SqlAccounts

WRONG_PIN = "975312"


def call(capsys: pytest.CaptureFixture[str], db: Db, keys: str, *, ani: str = "") -> Summary:
    summary, _ = ivr_call(capsys, keys, ani=ani)
    assert_recorded(db, summary)
    return summary


def add_transaction(db: Db, number: str, minor: int, days_ago: float, status: str) -> None:
    at = OPEN_UTC - timedelta(days=days_ago)
    db.execute(
        "INSERT INTO transactions (account_number, amount_minor, currency, merchant, at, status)"
        " VALUES (:n, :a, 'CNY', :m, :at, :s)",
        n=number, a=minor, m=f"Shop {minor}", at=at, s=status,
    )  # fmt: skip


# -- the store --------------------------------------------------------------------------------


def test_the_latest_transactions_come_newest_first_and_bounded(
    make_hotline: Callable[..., Components], seeded_url: str, db: Db
) -> None:
    number = ZHANG_MIN[0]
    for minor, days_ago, status in [(100, 5, "completed"), (200, 1, "pending"), (300, 3, "x")]:
        add_transaction(db, number, minor, days_ago, status)
    add_transaction(db, number, 400, 1, "refunded")  # same time as 200: the later row first
    hotline = make_hotline(seeded_url)

    with hotline.sessions() as session:
        accounts = SqlAccounts(session)
        three = accounts.recent_transactions(number, 3)
        assert accounts.recent_transactions(number, 0) == []
        assert accounts.recent_transactions("99999999", 3) == []

    assert [(t.amount_minor, t.status) for t in three] == [
        (400, "refunded"), (200, "pending"), (300, "x"),
    ]  # fmt: skip
    assert all(isinstance(t, ports.Transaction) and t.at.tzinfo is not None for t in three)


# -- through ivr call -------------------------------------------------------------------------


def test_the_last_three_of_five_are_read_and_the_lookup_audited(
    capsys: pytest.CaptureFixture[str], db: Db, seeded_env: str
) -> None:
    number, pin, phone = OMAR
    summary = call(capsys, db, f"1 6 {number}# {pin} 9", ani=phone)

    found = use_case(summary, "recent_transactions")
    assert found["outcome"] == "found" and found["data"]["tx_count"] == "3"
    assert [found["data"][f"tx{n}_status"] for n in (1, 2, 3)] == ["pending", "failed", "refunded"]
    assert "On November 19, 23.50 dollars at Corner Cafe." in texts(summary)
    assert "That one is still being processed." in texts(summary)
    assert summary["reason"] == "transactions" and summary["outcome"] == "solved"
    audit = db.one("audit_log", action="transactions_read")
    assert (audit["account_number"], audit["call_id"], audit["detail"]) == (
        number, summary["call_id"], {"count": 3},
    )  # fmt: skip


def test_none_in_chinese(capsys: pytest.CaptureFixture[str], db: Db, seeded_env: str) -> None:
    number, pin, phone = ZHANG_MIN
    summary = call(capsys, db, f"2 6 {number}# {pin} 9", ani=phone)

    assert outcomes(summary, "recent_transactions") == ["none"]
    assert "您的账户暂时还没有交易记录。" in texts(summary)
    assert said(summary)[-2:] == ["anything_else", "goodbye"]


def test_a_frozen_account_on_the_payment_branch_goes_to_security(
    capsys: pytest.CaptureFixture[str], db: Db, seeded_env: str
) -> None:
    number, pin, phone = CHEN_JIE
    summary = call(capsys, db, f"2 2 {number}# {pin}", ani=phone)

    assert use_case(summary, "verify_identity")["data"]["account_status"] == "frozen"
    assert "lookup_failed_payment" not in [u["use_case"] for u in summary["use_cases"]]
    assert said(summary)[-2:] == ["account_is_frozen", "transferring_to_security"]
    assert "为了保护您的资金安全，您的账户目前已被冻结" in texts(summary)
    assert enqueued(summary)["queue"] == "security"


def test_a_closed_account_with_its_pin_is_told_with_a_wrong_one_is_not(
    capsys: pytest.CaptureFixture[str], db: Db, seeded_env: str
) -> None:
    number, pin, phone = ZHANG_MIN
    db.execute("UPDATE accounts SET status = 'closed' WHERE number = :n", n=number)

    wrong = call(capsys, db, f"1 2 {number}# {WRONG_PIN} t", ani=phone)
    right = call(capsys, db, f"1 2 {number}# {pin}", ani=phone)

    assert outcomes(wrong, "verify_identity") == ["failure"]
    assert "verify_retry" in said(wrong) and "account_closed" not in said(wrong)
    assert outcomes(right, "verify_identity") == ["closed"]
    assert "This account is closed" in texts(right) and "don't match" not in texts(right)
    assert right["verified_account"] is None and enqueued(right)["queue"] == "closure"
    attempts = db.rows("verification_attempts", account_number=number)
    assert [a["succeeded"] for a in attempts] == [False, True]
    assert db.one("audit_log", action="verification_closed_account")["call_id"] == right["call_id"]


# -- the database goes away during the lookup ------------------------------------------------


@pytest.fixture
def product(outage: Outage, tmp_path: Path) -> Components:
    """The hotline on the database behind the switch; a writer gives up after 1 s."""
    settings = Settings(
        flow_path=FLOW_PATH,
        database_url=outage.url,
        log_level="WARNING",
        spool_dir=tmp_path / "spool",
        db_busy_timeout=1,
    )
    return bootstrap(settings, StoppedClock())


def test_an_outage_during_the_lookup_takes_the_caller_to_the_safe_route(
    product: Components, outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    """Verified on the payment branch; the database goes; back at the main menu the
    caller presses 6: the apology and a person, never silence or a crash."""
    number, pin, phone = OMAR
    start = CallStart("outage-tx", ani=phone, language="en", started_at=OPEN_UTC.timestamp())
    session = product.session(start, "console")
    session.start()
    for keys in ("2", f"{number}#", pin, "2"):  # payment branch, then "2": the main menu
        session.answer(Digits(keys))
    assert session.state is not None and session.state.node == "main_menu"
    outage.cut()
    try:
        with caplog.at_level(logging.ERROR):
            session.answer(Digits("6"))
    finally:
        outage.restore()

    [looked] = [u for u in session.transcript.use_cases if u["use_case"] == "recent_transactions"]
    assert looked["outcome"] == "error"
    heard = [p["id"] for e in session.transcript.entries for p in e.get("play", [])]
    assert "system_error" in heard and "recent_tx1" not in heard
    assert session.state.outcome == "queued" and session.queue == "general"
    assert "recent_transactions failed" in caplog.text
