"""The SQL store on both backends: migrations and the schema check, ``ivr db`` and
``ivr seed``, every repository, the unit of work, PIN hashes and time zones."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from integration.conftest import hotline_settings
from integration.support import (
    EMMA,
    LI_WEI,
    OMAR,
    OPEN_UTC,
    TABLES,
    ZHANG_MIN,
    Db,
    StoppedClock,
    utc_offset_zero,
)
from ivr.app import cli
from ivr.app.bootstrap import Components
from ivr.app.demo_database import is_embedded
from ivr.flow.actions import RunAction
from ivr.flow.model import ERROR_OUTCOME, VERIFY_ACTION
from ivr.services import pins, ports, wording
from ivr.services.demo import DEMO_ACCOUNTS
from ivr.services.usecases import UseCases
from ivr.store import models as m
from ivr.store import schema
from ivr.store.db import connect
from ivr.store.schema import SchemaOutOfDate
from ivr.store.seed import seed_demo
from ivr.store.unit_of_work import SqlUnitOfWork

HEAD = schema.head_revision()
NEXT = f"{int(HEAD) + 1:04d}"  # a revision newer than the product's
SHANGHAI = timezone(timedelta(hours=8))


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- migrations and the schema check ---------------------------------------------------------


def test_migrations_take_an_empty_database_to_head(database_url: str) -> None:
    engine = connect(database_url)
    try:
        assert schema.current_revision(engine) is None
        assert schema.upgrade(engine) == (None, HEAD)
        assert schema.current_revision(engine) == HEAD
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
        schema.require_current(engine)  # does not raise
        assert schema.upgrade(engine) == (HEAD, HEAD)  # a second upgrade changes nothing
    finally:
        engine.dispose()


def test_the_migrated_schema_matches_the_models(upgraded_url: str) -> None:
    """Every model column exists in the migrated database (the migration is not stale)."""
    engine = connect(upgraded_url)
    try:
        found = inspect(engine)
        for table in m.Base.metadata.sorted_tables:
            columns = {c["name"] for c in found.get_columns(table.name)}
            assert columns == set(table.columns.keys()), table.name
    finally:
        engine.dispose()


def test_an_empty_database_is_refused_naming_ivr_db_upgrade(
    database_url: str, make_hotline: Callable[..., Components]
) -> None:
    engine = connect(database_url)
    try:
        with pytest.raises(SchemaOutOfDate) as refused:
            schema.require_current(engine)
    finally:
        engine.dispose()
    message = str(refused.value)
    assert "has no hotline tables yet" in message
    assert f"this code needs {HEAD}: run `ivr db upgrade`" in message

    hotline = make_hotline(database_url)
    with pytest.raises(SchemaOutOfDate, match="ivr db upgrade"):
        hotline.use_cases  # noqa: B018 - the composition root checks before any call


def test_the_schema_check_expects_the_newest_migration() -> None:
    """``schema.HEAD`` (read on every start without importing Alembic) is the newest
    migration on disk: a new migration must move it."""
    assert schema.HEAD == schema.head_revision()


def _migrations_with_a_newer_revision(folder: Path) -> Path:
    """A copy of the product's migrations plus a revision ``NEXT`` after its head."""
    copy = folder / "migrations"
    shutil.copytree(schema.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / f"{NEXT}_test_marker.py").write_text(
        f'''"""a revision newer than the product's, for the test"""
import sqlalchemy as sa
from alembic import op

revision = "{NEXT}"
down_revision = "{HEAD}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("ivr_test_marker", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("ivr_test_marker")
''',
        encoding="utf-8",
    )
    return copy


def test_an_older_schema_is_refused_until_ivr_db_upgrade(
    upgraded_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ivr_env: list[Components],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The code moves on to a revision ``NEXT``; a database still at the old head is refused
    (by the schema check, ``ivr db status``, and ``ivr call`` on PostgreSQL) until ``ivr db
    upgrade``; ``ivr call`` upgrades an SQLite file itself."""
    monkeypatch.setattr(schema, "MIGRATIONS", _migrations_with_a_newer_revision(tmp_path))
    monkeypatch.setattr(schema, "HEAD", NEXT)  # what the newer code would say
    monkeypatch.setenv("IVR_DATABASE_URL", upgraded_url)
    engine = connect(upgraded_url)
    try:
        with pytest.raises(SchemaOutOfDate) as refused:
            schema.require_current(engine)
        assert f"is at schema revision {HEAD}; this code needs {NEXT}: run `ivr db upgrade`" in (
            str(refused.value)
        )

        assert run_cli(capsys, "db", "status")[0] == 1
        code, out, err = run_cli(capsys, "call", "--keys", "1 0", "--json")
        if is_embedded(upgraded_url):  # ivr call brings an SQLite file up to date itself
            assert code == 0 and f"schema {HEAD} -> {NEXT}, 5 demo accounts seeded" in err
        else:  # a server database is the operator's to upgrade
            assert (code, out) == (1, "")
            assert err.startswith("ivr call: the database ") and "run `ivr db upgrade`" in err
            code, out, _ = run_cli(capsys, "db", "upgrade")
            assert code == 0 and f"upgraded from {HEAD} to schema {NEXT}" in out
        assert run_cli(capsys, "db", "status")[0] == 0

        schema.require_current(engine)  # does not raise
        assert "ivr_test_marker" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_newer_schema_asks_for_a_newer_program(upgraded_url: str) -> None:
    db = Db(upgraded_url)
    try:
        db.execute("UPDATE alembic_version SET version_num = '0999'")
        with pytest.raises(SchemaOutOfDate) as refused:
            schema.require_current(db.engine)
    finally:
        db.close()
    message = str(refused.value)
    assert "is at schema revision 0999" in message and "upgrade this program" in message
    assert "ivr db upgrade" not in message


def test_ivr_db_status_and_upgrade(
    database_url: str,
    ivr_env: list[Components],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("IVR_DATABASE_URL", database_url)

    code, out, _ = run_cli(capsys, "db", "status")
    assert code == 1 and f"schema empty; this code needs {HEAD}" in out

    code, out, _ = run_cli(capsys, "db", "upgrade")
    assert code == 0 and f"upgraded from empty to schema {HEAD}" in out

    code, out, _ = run_cli(capsys, "db", "status")
    assert code == 0 and f"schema {HEAD}; this code needs {HEAD}" in out

    code, out, _ = run_cli(capsys, "db", "upgrade")
    assert code == 0 and f"already at schema {HEAD}" in out


# -- demo data -------------------------------------------------------------------------------


def test_seed_is_idempotent(
    upgraded_url: str,
    ivr_env: list[Components],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("IVR_DATABASE_URL", upgraded_url)
    db = Db(upgraded_url)
    try:
        code, out, _ = run_cli(capsys, "seed", "--demo")
        assert code == 0 and "demo accounts: 5 created, 0 reset, 0 already there" in out
        first = db.dump()
        assert db.count("accounts") == len(DEMO_ACCOUNTS) == 5
        with_payment = [d for d in DEMO_ACCOUNTS if d.failed_payment]
        more = sum(len(d.more_transactions) for d in DEMO_ACCOUNTS)
        assert more > 0 and db.count("transactions") == 3 * len(with_payment) + more
        assert db.count("transactions", status="failed") == len(with_payment)

        code, out, _ = run_cli(capsys, "seed", "--demo")
        assert code == 0 and "demo accounts: 0 created, 0 reset, 5 already there" in out
        assert db.dump() == first  # nothing added, nothing re-hashed

        engine = connect(upgraded_url)
        try:
            pepper = hotline_settings(upgraded_url).pepper()
            report = seed_demo(sessionmaker(engine), OPEN_UTC, pepper=pepper)
        finally:
            engine.dispose()
        assert (report.created, report.reset, report.unchanged) == (0, 0, 5)
        assert db.dump() == first
    finally:
        db.close()


def test_seed_needs_an_upgraded_database(
    database_url: str,
    ivr_env: list[Components],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("IVR_DATABASE_URL", database_url)
    code, out, err = run_cli(capsys, "seed", "--demo")
    assert (code, out) == (1, "")
    assert err.startswith("ivr seed: ") and "run `ivr db upgrade`" in err
    assert "Traceback" not in err


def test_seed_reset_restores_a_frozen_demo_account(
    seeded_env: str,
    db: Db,
    make_hotline: Callable[..., Components],
    clock: StoppedClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number, pin, phone = EMMA
    hotline = make_hotline(seeded_env, clock)
    with hotline.unit_of_work() as uow:  # five failures: verification is locked
        for minute in range(5):
            at = clock.now() - timedelta(minutes=minute)
            uow.verifications.record(number, phone, "call-x", at, False)
        uow.commit()
    db.execute(
        "UPDATE accounts SET status = 'frozen', balance_minor = 999, pin_hash = 'x', "
        "phone = '+10000000000' WHERE number = :number",
        number=number,
    )
    assert hotline.use_cases.run(_verify(number, pin, phone)).outcome == "locked"

    code, out, _ = run_cli(capsys, "seed", "--demo", "--reset")
    assert code == 0 and "demo accounts: 0 created, 5 reset, 0 already there" in out

    row = db.one("accounts", number=number)
    assert (row["status"], row["balance_minor"], row["currency"], row["phone"]) == (
        "active", 0, "USD", phone,
    )  # fmt: skip
    assert pins.pin_matches(pin, row["pin_hash"], hotline.pepper)
    assert db.count("verification_attempts", account_number=number) == 0
    assert hotline.use_cases.run(_verify(number, pin, phone)).outcome == "success"


def _verify(number: str, pin: str, ani: str, call_id: str = "call-v") -> RunAction:
    args = {"account_number": number, "pin": pin, "ani": ani, "call_id": call_id}
    return RunAction("check_identity", VERIFY_ACTION, args, frozenset({"pin"}))


def test_pin_hashes_are_peppered_scrypt_never_the_pin(db: Db) -> None:
    pepper = hotline_settings(db.url).pepper()
    rows = {row["number"]: row for row in db.rows("accounts", order_by="number")}
    assert set(rows) == {demo.number for demo in DEMO_ACCOUNTS}
    for demo in DEMO_ACCOUNTS:
        stored = rows[demo.number]["pin_hash"]
        assert stored.startswith("scrypt-hmac$1024$8$1$"), stored
        assert demo.pin not in stored
        assert pins.pin_matches(demo.pin, stored, pepper)
        assert not pins.pin_matches("000000", stored, pepper)
        assert not pins.pin_matches(demo.pin, stored, None)  # the database alone: no
        assert not pins.pin_matches(demo.pin, stored, pepper + b"x")
    assert len({row["pin_hash"] for row in rows.values()}) == len(rows)  # salted
    everything = db.dump()
    assert not [demo.pin for demo in DEMO_ACCOUNTS if demo.pin in everything]


# -- repositories ----------------------------------------------------------------------------


def test_accounts_round_trip(hotline: Components) -> None:
    with hotline.unit_of_work() as uow:
        for demo in DEMO_ACCOUNTS:
            assert uow.accounts.get(demo.number) == ports.Account(
                demo.number, demo.holder_name, demo.phone, demo.language, demo.status,
                demo.balance_minor, demo.currency,
            )  # fmt: skip
            assert uow.accounts.lock(demo.number) == uow.accounts.get(demo.number)
            stored = uow.accounts.pin_hash(demo.number)
            assert hotline.pins.matches(demo.pin, stored)
            assert not hotline.pins.matches("000000", stored)
        assert uow.accounts.get("99999999") is None and uow.accounts.lock("99999999") is None
        assert uow.accounts.pin_hash("99999999") is None
        assert not hotline.pins.matches(LI_WEI[1], None)
        uow.accounts.set_status(LI_WEI[0], ports.FROZEN)
        uow.commit()
    with hotline.unit_of_work() as uow:
        account = uow.accounts.get(LI_WEI[0])
        assert account is not None and account.status == ports.FROZEN


def _add_transaction(
    hotline: Components, number: str, at: datetime, status: str, **kw: Any
) -> None:
    with hotline.sessions.begin() as session:
        session.add(
            m.TransactionRow(
                account_number=number,
                amount_minor=kw.get("amount", 1_000),
                currency="CNY",
                merchant=kw.get("merchant", "Shop"),
                at=at,
                status=status,
                failure_reason=kw.get("reason"),
            )
        )


def test_latest_failed_payment_is_the_newest_failed_one(hotline: Components) -> None:
    number = ZHANG_MIN[0]
    with hotline.unit_of_work() as uow:
        seeded = uow.accounts.latest_failed_payment(LI_WEI[0])
        at = datetime(2026, 11, 20, 9, 14, tzinfo=UTC)
        assert seeded == ports.FailedPayment(8_990, "CNY", "Fresh Mart", at, "insufficient_funds")
        assert seeded is not None and utc_offset_zero(seeded.at)
        assert uow.accounts.latest_failed_payment(number) is None  # none seeded

    day = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    # Inserted out of order: the newest failure gets the smallest id.
    _add_transaction(hotline, number, day + timedelta(days=14), "failed",
                     merchant="Newest Failure", reason="merchant_error", amount=4_200)  # fmt: skip
    _add_transaction(hotline, number, day + timedelta(days=21), "completed", merchant="Later OK")
    _add_transaction(hotline, number, day + timedelta(days=9), "failed",
                     merchant="Older Failure", reason="network_error")  # fmt: skip

    with hotline.unit_of_work() as uow:
        latest = uow.accounts.latest_failed_payment(number)
    assert latest == ports.FailedPayment(
        4_200, "CNY", "Newest Failure", day + timedelta(days=14), "merchant_error"
    )


def test_verification_attempts_round_trip(hotline: Components, clock: StoppedClock, db: Db) -> None:
    now = clock.now()
    ani, other_ani = "+15551230000", "+15559870000"
    attempts = [
        (LI_WEI[0], ani, now - timedelta(minutes=20), False),
        (LI_WEI[0], ani, now - timedelta(minutes=10), False),
        (OMAR[0], ani, now - timedelta(minutes=30), False),
        (OMAR[0], ani, now - timedelta(minutes=20), True),  # a success resets the count
        (OMAR[0], ani, now - timedelta(minutes=10), False),
        (ZHANG_MIN[0], ani, now - timedelta(minutes=1), True),
        ("12345678", ani, now, False),  # an account number that matches nobody
        (EMMA[0], ani, now - timedelta(hours=2), False),  # outside the hour
        (EMMA[0], other_ani, now, False),
    ]
    with hotline.unit_of_work() as uow:
        for number, caller, at, ok in attempts:
            uow.verifications.record(number, caller, "call-1", at, ok)
        uow.commit()

    hour_ago = now - timedelta(hours=1)
    with hotline.unit_of_work() as uow:
        recent = uow.verifications.failures_since(LI_WEI[0], now - timedelta(minutes=15))
        assert recent == [now - timedelta(minutes=10)]
        hour = sorted(uow.verifications.failures_since(LI_WEI[0], hour_ago))
        assert hour == [now - timedelta(minutes=20), now - timedelta(minutes=10)]
        assert all(utc_offset_zero(at) for at in hour)
        assert uow.verifications.failures_since(OMAR[0], hour_ago) == [now - timedelta(minutes=10)]
        assert uow.verifications.failures_since(ZHANG_MIN[0], hour_ago) == []
        assert uow.verifications.accounts_failed_from(ani, hour_ago) == {
            LI_WEI[0], OMAR[0], "12345678",
        }  # fmt: skip
        assert uow.verifications.accounts_failed_from(other_ani, hour_ago) == {EMMA[0]}
        assert EMMA[0] in uow.verifications.accounts_failed_from(ani, now - timedelta(hours=3))
        assert uow.verifications.accounts_failed_from("+19999999999", hour_ago) == set()

    assert db.count("verification_attempts") == len(attempts)
    first = db.rows("verification_attempts")[0]
    assert set(first) == {
        "id", "account_number", "ani", "ani_e164", "call_id", "at", "succeeded",
    }  # fmt: skip
    assert first["ani_e164"] == first["ani"] == ani


def test_closure_confirmations_round_trip(hotline: Components, clock: StoppedClock, db: Db) -> None:
    number, now = ZHANG_MIN[0], clock.now()
    with hotline.unit_of_work() as uow:
        assert uow.requests.closure_confirmations(number, "call-1") == 0
        assert uow.requests.confirm_closure(number, "call-1", now) == 1
        assert uow.requests.confirm_closure(number, "call-1", now) == 2
        assert uow.requests.closure_confirmations(number, "call-1") == 2
        assert uow.requests.closure_confirmations(number, "call-2") == 0  # per call
        assert uow.requests.confirm_closure(number, "call-2", now) == 1
        reference = uow.requests.close(number, "call-1", now)
        with pytest.raises(LookupError):
            uow.requests.close(number, "call-9", now)
        uow.commit()
    assert re.fullmatch(r"\d{8}", reference)
    with hotline.unit_of_work() as uow:
        assert uow.requests.closure_confirmations(number, "call-1") == 2

    first = db.one("closure_requests", call_id="call-1")
    assert (first["account_number"], first["confirmations"], first["reference"]) == (
        number, 2, reference,
    )  # fmt: skip
    assert first["closed_at"] is not None
    second = db.one("closure_requests", call_id="call-2")
    assert (second["confirmations"], second["reference"], second["closed_at"]) == (1, None, None)


def test_incidents_sms_resets_and_audit_round_trip(
    hotline: Components, clock: StoppedClock, db: Db
) -> None:
    number, now = EMMA[0], clock.now()
    body = "您的钱包密码重置验证码是123456。"
    detail = {"incident": "00001234", "nested": {"list": [1, 2]}, "text": "注销"}
    with hotline.unit_of_work() as uow:
        first = uow.requests.open_incident(number, "fraud_report", "call-1", now)
        second = uow.requests.open_incident(number, "verification_lockout", "call-2", now)
        uow.requests.send_sms(EMMA[2], body, now)
        uow.requests.reset_code(number, "a" * 64, now, now + timedelta(minutes=15))
        uow.audit.record(now, "call-1", number, "account_frozen", detail)
        uow.audit.record(now, "call-2", None, "verification_throttled", {"ani": "+1555"})
        uow.commit()

    assert re.fullmatch(r"\d{8}", first) and re.fullmatch(r"\d{8}", second) and first != second
    incidents = db.rows("security_incidents")
    assert [(i["reference"], i["account_number"], i["kind"], i["call_id"], i["status"])
            for i in incidents] == [
        (first, number, "fraud_report", "call-1", "open"),
        (second, number, "verification_lockout", "call-2", "open"),
    ]  # fmt: skip
    sms = db.one("sms_outbox")
    assert (sms["to"], sms["body"], sms["status"], sms["sent_at"]) == (
        EMMA[2], body, "queued", None,
    )  # fmt: skip
    reset = db.one("password_resets")
    assert (reset["account_number"], reset["code_hash"], reset["used_at"]) == (
        number, "a" * 64, None,
    )  # fmt: skip
    audit = db.rows("audit_log")
    assert [(a["actor"], a["call_id"], a["account_number"], a["action"], a["detail"])
            for a in audit] == [
        ("ivr", "call-1", number, "account_frozen", detail),
        ("ivr", "call-2", None, "verification_throttled", {"ani": "+1555"}),
    ]  # fmt: skip


def test_call_records_round_trip(hotline: Components, clock: StoppedClock, db: Db) -> None:
    started = clock.now()
    record = ports.CallRecord(
        call_id="console-abc",
        channel="console",
        caller_id=LI_WEI[2],
        language="zh",
        reason="payment_failure",
        account_number=LI_WEI[0],
        path=("choose_language", "welcome", "main_menu", "goodbye"),
        last_node="goodbye",
        outcome="solved",
        queue=None,
        started_at=started,
        ended_at=started + timedelta(seconds=42),
    )
    use_cases = hotline.use_cases
    assert use_cases.record_call(record)
    # Closed once: a second close (a replay) changes nothing.
    assert use_cases.record_call(replace(record, outcome="abandoned"))
    with hotline.unit_of_work() as uow:
        assert isinstance(uow.calls, ports.CallRecords)
        assert uow.calls.count() == 1  # type: ignore[attr-defined]

    row = db.one("call_records")
    assert row["path"] == list(record.path)
    assert {k: row[k] for k in ("call_id", "caller_id", "language", "reason", "outcome")} == {
        "call_id": "console-abc", "caller_id": LI_WEI[2], "language": "zh",
        "reason": "payment_failure", "outcome": "solved",
    }  # fmt: skip
    assert (row["account_number"], row["last_node"], row["queue"]) == (LI_WEI[0], "goodbye", None)
    took = _aware(row["ended_at"]) - _aware(row["started_at"])
    assert took == timedelta(seconds=42)
    assert _aware(row["started_at"]) == started


def _aware(value: datetime) -> datetime:
    """SQLite gives naive datetimes (stored as UTC); PostgreSQL aware ones."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# -- lockout and throttling windows on the real store (a stopped clock) -----------------------


def test_lockout_needs_five_failures_within_15_minutes_and_lasts_30(
    hotline: Components, clock: StoppedClock, db: Db
) -> None:
    number, pin, phone = LI_WEI
    use_cases = hotline.use_cases

    def verify(pin: str, call_id: str = "call-1") -> str:
        return use_cases.run(_verify(number, pin, phone, call_id)).outcome

    for _ in range(4):
        assert verify("000000") == "failure"
        clock.advance(minutes=1)
    clock.advance(minutes=16)  # the four are now spread over more than 15 minutes
    assert verify("000000") == "failure"
    assert db.count("security_incidents") == 0

    for _ in range(3):
        clock.advance(minutes=1)
        assert verify("000000") == "failure"
    clock.advance(minutes=1)
    assert verify("000000", "call-2") == "locked"  # five within 15 minutes
    locked_at = clock.now()
    incident = db.one("security_incidents")
    assert (incident["kind"], incident["call_id"]) == ("verification_lockout", "call-2")

    clock.current = locked_at + timedelta(minutes=29)
    assert verify(pin, "call-3") == "locked"  # even the right PIN
    clock.current = locked_at + timedelta(minutes=30, seconds=1)
    assert verify(pin, "call-4") == "success"
    assert db.count("security_incidents") == 1


def test_throttling_counts_accounts_per_caller_number_for_an_hour(
    hotline: Components, clock: StoppedClock, db: Db
) -> None:
    use_cases = hotline.use_cases
    ani = "+15550001111"
    for number in (LI_WEI[0], ZHANG_MIN[0], OMAR[0]):
        assert use_cases.run(_verify(number, "000000", ani)).outcome == "failure"
    assert use_cases.run(_verify(LI_WEI[0], LI_WEI[1], ani)).outcome == "success"  # tried one
    assert use_cases.run(_verify(EMMA[0], EMMA[1], ani)).outcome == "locked"  # a fourth
    assert use_cases.run(_verify(EMMA[0], EMMA[1], EMMA[2])).outcome == "success"  # per number
    assert db.count("audit_log", action="verification_throttled") == 1

    clock.advance(hours=1, seconds=1)
    assert use_cases.run(_verify(EMMA[0], EMMA[1], ani)).outcome == "success"


# -- the unit of work ------------------------------------------------------------------------


def test_the_unit_of_work_rolls_back_what_was_not_committed(
    hotline: Components, clock: StoppedClock, db: Db
) -> None:
    number, now = LI_WEI[0], clock.now()
    before = db.dump()

    with hotline.unit_of_work() as uow:
        uow.accounts.set_status(number, ports.FROZEN)
        uow.requests.open_incident(number, "fraud_report", "call-1", now)
        uow.requests.send_sms(LI_WEI[2], "hello", now)
        uow.verifications.record(number, LI_WEI[2], "call-1", now, False)
        uow.audit.record(now, "call-1", number, "account_frozen", {})
        # no commit
    assert db.dump() == before

    with pytest.raises(RuntimeError), hotline.unit_of_work() as uow:
        uow.accounts.set_status(number, ports.FROZEN)
        uow.audit.record(now, "call-1", number, "account_frozen", {})
        raise RuntimeError("something broke half-way")
    assert db.dump() == before

    with hotline.unit_of_work() as uow:
        uow.accounts.set_status(number, ports.FROZEN)
        uow.commit()
    assert db.one("accounts", number=number)["status"] == ports.FROZEN


#: What ``CommitFails`` saw inside its transaction just before the commit failed.
SEEN_BEFORE_COMMIT: list[tuple[str, int, int]] = []


class CommitFails(SqlUnitOfWork):
    """Everything is written (flushed) inside the transaction, then the commit fails."""

    def commit(self) -> None:
        self.session.flush()
        session = self.session
        status = session.scalar(select(m.AccountRow.status).where(m.AccountRow.number == EMMA[0]))
        incidents = session.scalar(select(func.count()).select_from(m.SecurityIncidentRow))
        audit = session.scalar(select(func.count()).select_from(m.AuditRow))
        SEEN_BEFORE_COMMIT.append((str(status), incidents or 0, audit or 0))
        raise RuntimeError("the database went away at COMMIT")


class AuditFails(SqlUnitOfWork):
    """The change is made, then writing its audit row fails."""

    def __enter__(self) -> SqlUnitOfWork:
        super().__enter__()

        class Broken(ports.AuditLog):
            def record(self, *args: Any, **kwargs: Any) -> None:
                raise RuntimeError("audit log unavailable")

        self.audit = Broken()
        return self


def _wallet_action(name: str, number: str) -> RunAction:
    args = {"verified": "yes", "verified_account": number, "call_id": "call-1", "language": "en"}
    return RunAction(name, name, args)


@pytest.mark.parametrize("failing", [CommitFails, AuditFails], ids=["commit", "audit"])
@pytest.mark.parametrize(
    ("name", "number", "audit_action"),
    [
        ("freeze_account", EMMA[0], "account_frozen"),
        ("send_reset_code", LI_WEI[0], "reset_code_sent"),
        ("record_closure_confirmation", ZHANG_MIN[0], "closure_confirmed"),
        ("close_account", ZHANG_MIN[0], "account_closed"),
    ],
)
def test_a_change_and_its_audit_row_commit_together_or_not_at_all(
    hotline: Components,
    clock: StoppedClock,
    db: Db,
    failing: type[SqlUnitOfWork],
    name: str,
    number: str,
    audit_action: str,
) -> None:
    use_cases = hotline.use_cases
    if name == "close_account":  # its first confirmation, committed in an earlier step
        assert use_cases.run(_wallet_action("record_closure_confirmation", number)).outcome == (
            "recorded"
        )
    before = db.dump()
    audit_before = db.count("audit_log")

    broken = UseCases(
        lambda: failing(hotline.sessions), clock, hotline.settings.secret, hotline.pins
    )
    assert broken.run(_wallet_action(name, number)).outcome == ERROR_OUTCOME
    assert db.dump() == before  # neither the change nor its audit row stayed

    result = use_cases.run(_wallet_action(name, number))  # the same, working
    assert result.outcome != ERROR_OUTCOME
    assert db.dump() != before
    [audit] = db.rows("audit_log")[audit_before:]
    assert (audit["action"], audit["account_number"], audit["call_id"]) == (
        audit_action, number, "call-1",
    )  # fmt: skip


def test_a_failing_commit_had_written_the_audit_row_first(
    hotline: Components, clock: StoppedClock, db: Db
) -> None:
    """The rollback test above is not vacuous: the rows were in the transaction."""
    SEEN_BEFORE_COMMIT.clear()
    broken = UseCases(
        lambda: CommitFails(hotline.sessions), clock, hotline.settings.secret, hotline.pins
    )
    assert broken.run(_wallet_action("freeze_account", EMMA[0])).outcome == ERROR_OUTCOME
    assert SEEN_BEFORE_COMMIT == [(ports.FROZEN, 1, 1)]
    assert db.count("audit_log") == 0
    assert db.count("security_incidents") == 0
    assert db.one("accounts", number=EMMA[0])["status"] == ports.ACTIVE


# -- time zones ------------------------------------------------------------------------------


def test_times_come_back_as_utc(hotline: Components, clock: StoppedClock) -> None:
    now = clock.now()
    with hotline.unit_of_work() as uow:
        uow.verifications.record(LI_WEI[0], LI_WEI[2], "call-1", now, False)
        uow.commit()
    with hotline.unit_of_work() as uow:
        [failure] = uow.verifications.failures_since(LI_WEI[0], now - timedelta(minutes=1))
        payment = uow.accounts.latest_failed_payment(EMMA[0])
    assert failure == now and utc_offset_zero(failure)
    assert payment is not None and utc_offset_zero(payment.at)
    assert payment.at == datetime(2026, 11, 21, 18, 2, tzinfo=UTC)


def test_a_non_utc_time_keeps_its_instant(hotline: Components, backend: Any) -> None:
    beijing = OPEN_UTC.astimezone(SHANGHAI)
    with hotline.unit_of_work() as uow:
        uow.verifications.record(LI_WEI[0], LI_WEI[2], "call-1", beijing, False)
        uow.commit()
    with hotline.unit_of_work() as uow:
        found = uow.verifications.failures_since(LI_WEI[0], beijing - timedelta(hours=12))
    assert found == [OPEN_UTC]
    assert utc_offset_zero(found[0])


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_non_utc_postgres_session_still_gives_utc(
    seeded_url: str,
    make_hotline: Callable[..., Components],
    clock: StoppedClock,
) -> None:
    url = make_url(seeded_url).update_query_dict({"options": "-c timezone=Asia/Shanghai"})
    hotline = make_hotline(url.render_as_string(hide_password=False), clock)
    _add_transaction(hotline, ZHANG_MIN[0], datetime(2026, 11, 20, 20, 0, tzinfo=UTC), "failed",
                     merchant="Late Night Shop", reason="limit_exceeded")  # fmt: skip
    with hotline.unit_of_work() as uow:
        payment = uow.accounts.latest_failed_payment(ZHANG_MIN[0])
    assert payment is not None
    assert payment.at == datetime(2026, 11, 20, 20, 0, tzinfo=UTC)  # the instant is right
    assert wording.day(payment.at, "en") == "November 20"
    assert utc_offset_zero(payment.at)


def test_the_upgrade_to_0006_redacts_the_bodies_of_messages_already_sent(
    database_url: str,
) -> None:
    from alembic import command

    engine = connect(database_url)
    try:
        command.upgrade(schema.alembic_config(engine), "0005")
        with engine.begin() as conn:
            for status, body in [("sent", "code 314159"), ("failed", "code 271828"),
                                 ("queued", "code 161803")]:  # fmt: skip
                conn.execute(
                    m.SmsOutboxRow.__table__.insert().values(
                        to="+14155550102", body=body, created_at=OPEN_UTC, status=status
                    )
                )
        schema.upgrade(engine)
        with engine.connect() as conn:
            bodies = dict(conn.execute(select(m.SmsOutboxRow.status, m.SmsOutboxRow.body)).all())
    finally:
        engine.dispose()
    assert bodies == {
        "sent": "[redacted] password-reset SMS, 11 characters",
        "failed": "[redacted] password-reset SMS, 11 characters",
        "queued": "code 161803",  # may still go out: the sender expires it in time
    }


def test_the_upgrade_to_0007_gives_ghosts_held_before_leases_a_lapsed_one(
    database_url: str, make_hotline: Callable[..., Components]
) -> None:
    from alembic import command

    from ivr.app.bootstrap import center_settings
    from ivr.services.contact_center import ContactCenter

    engine = connect(database_url)
    try:
        command.upgrade(schema.alembic_config(engine), "0006")
        agent = {"password_hash": "-", "role": "agent", "skills": ["general"],
                 "languages": ["en"], "endpoint": "e", "state_since": OPEN_UTC}  # fmt: skip
        entry = {"kind": "call", "queue": "general", "priority": 1, "skill": "general",
                 "language": "en", "caller_id": "+14155550102", "path": [],
                 "enqueued_at": OPEN_UTC}  # fmt: skip
        with engine.begin() as conn:
            conn.execute(m.AgentRow.__table__.insert().values(
                id=1, username="ringing", name="R", state="ringing", **agent))  # fmt: skip
            for n, state in enumerate(("offered", "waiting", "done"), 1):
                conn.execute(m.QueueEntryRow.__table__.insert().values(
                    id=n, call_id=f"ghost-{n}", state=state, agent_id=1 if n == 1 else None,
                    **entry))  # fmt: skip
        schema.upgrade(engine)
    finally:
        engine.dispose()
    hotline = make_hotline(database_url, StoppedClock(OPEN_UTC + timedelta(hours=1)))
    center = ContactCenter(hotline.unit_of_work, hotline.clock, center_settings(hotline.settings))
    assert center.reap().lapsed == 2  # the first round after the upgrade
    ringing = center.agent(1)
    assert ringing is not None and (ringing.state, ringing.entry_id) == ("available", 1)
    assert [center.place(n).entry.state for n in (1, 2, 3)] == ["abandoned"] * 2 + ["done"]
