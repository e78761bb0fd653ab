"""Caller ids and call ids of any length (issue 10, item 3), on SQLite and PostgreSQL.

A caller id is stored as the network sent it, beside the E.164 number in it that the
hotline matches on; call ids are kept up to 255 characters and a longer CallSid is a 400.
Before migration 0004 a 45-character SIP URI overflowed PostgreSQL's VARCHAR(32)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from agi_fake import FakeAsterisk, environment
from alembic import command
from flask.testing import FlaskClient

from integration.phone.twilio.test_twilio_voice import BASE, TOKEN, Phone, twilio_client, walk
from integration.support import (
    EMMA,
    LI_WEI,
    OMAR,
    ZHANG_MIN,
    Db,
    StoppedClock,
    ivr_call,
    sign_in_busy,
    use_case,
)
from ivr.app.bootstrap import Components
from ivr.phone.asterisk.agi_call import run_call
from ivr.phone.asterisk.agi_line import AgiLine
from ivr.store import models as m
from ivr.store import schema
from ivr.store.db import connect

NUMBER, PIN, PHONE = LI_WEI
SIP = "sip:+8613800138001@pstn.example-carrier.com"  # 45 characters: Li Wei's phone
NAMED = '"Li Wei" <sip:+8613800138001@pstn.example-carrier.com>;tag=9fxced76sl'
LONG_SID = "CA" + "0123456789abcdef" * 6 + "01"  # 100 characters
WRONG_PIN = "975312"


def test_a_sip_caller_id_verifies_and_is_recorded_raw_and_as_a_number(
    seeded_env: str, capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    summary, _ = ivr_call(capsys, f"1 2 {NUMBER}# {PIN} 9", ani=SIP)

    assert use_case(summary, "verify_identity")["outcome"] == "success"
    assert summary["verified_account"] == NUMBER
    [attempt] = db.rows("verification_attempts")
    assert (attempt["ani"], attempt["ani_e164"], attempt["succeeded"]) == (SIP, PHONE, True)
    record = db.one("call_records", call_id=summary["call_id"])
    assert (record["caller_id"], record["caller_e164"]) == (SIP, PHONE)
    assert (record["outcome"], record["account_number"]) == ("solved", NUMBER)


def test_the_lockout_per_caller_number_sees_one_number_in_every_form(
    seeded_env: str, capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    """Three accounts failed from one number, each time written differently: the fourth
    is refused from a fourth form, as it would be from the plain number."""
    forms = ("+8613800138001", SIP, NAMED)
    for account, ani in zip((LI_WEI[0], ZHANG_MIN[0], OMAR[0]), forms, strict=True):
        summary, _ = ivr_call(capsys, f"1 2 {account}# {WRONG_PIN}", ani=ani)
        assert use_case(summary, "verify_identity")["outcome"] == "failure"

    refused, _ = ivr_call(capsys, f"1 2 {EMMA[0]}# {EMMA[1]}", ani="tel:+86-138-0013-8001")

    assert use_case(refused, "verify_identity")["outcome"] == "locked"
    assert {r["ani_e164"] for r in db.rows("verification_attempts")} == {PHONE}


def test_wrong_callback_codes_count_per_number_whatever_its_form(
    hotline: Components, clock: StoppedClock
) -> None:
    """The lockout on wrong callback codes: one number in any form is one caller; caller
    ids without a number are told apart as sent."""
    now = clock.now()
    with hotline.unit_of_work() as uow:
        for caller in ("+8613800138001", SIP, "1001"):
            uow.code_attempts.record(caller, "call-1", now, False)
        uow.commit()
    with hotline.unit_of_work() as uow:
        since = now - timedelta(hours=1)
        assert len(uow.code_attempts.failures_since(NAMED, since)) == 2
        assert len(uow.code_attempts.failures_since("1001", since)) == 1
        assert uow.code_attempts.failures_since("1002", since) == []
        assert uow.code_attempts.failures_since("anonymous", since) == []


def test_a_queued_agi_call_keeps_a_sip_caller_id_and_a_long_uniqueid(
    hotline: Components, db: Db
) -> None:
    unique_id = "1795423433." + "9" * 140  # Asterisk allows 150 characters
    env = environment(agi_callerid=SIP, agi_uniqueid=unique_id)
    fake = FakeAsterisk("t t  t t t", env=env)  # timeouts to the retry limit: queued

    run_call(AgiLine(fake, fake), hotline, "agi")

    entry = db.one("queue_entries", call_id=unique_id)
    assert (entry["caller_id"], entry["caller_e164"], entry["queue"]) == (SIP, PHONE, "general")
    record = db.one("call_records", call_id=unique_id)
    assert (record["caller_id"], record["caller_e164"], record["outcome"]) == (SIP, PHONE, "queued")


def test_an_agi_uniqueid_too_long_to_store_gets_an_id_of_our_own(
    hotline: Components, db: Db
) -> None:
    fake = FakeAsterisk("t t  t t t", env=environment(agi_uniqueid="9" * 400))

    session = run_call(AgiLine(fake, fake), hotline, "agi")

    assert session.call.call_id.startswith("agi-")
    assert db.one("call_records")["call_id"] == session.call.call_id


# -- Twilio ---------------------------------------------------------------------------------------


@pytest.fixture
def client(hotline: Components) -> FlaskClient:
    """The web app, taking webhooks signed with ``TOKEN`` for ``BASE``."""
    hotline.settings = replace(
        hotline.settings, twilio_auth_token=TOKEN, public_url=BASE, secret_key="k" * 32
    )
    return twilio_client(hotline)


def test_a_twilio_call_with_a_100_character_callsid_and_a_sip_from_is_served(
    client: FlaskClient,
    db: Db,
) -> None:
    phone = Phone(client, LONG_SID, SIP)

    reply = walk(phone, f"1 4 {NUMBER} {PIN}")  # the security branch: verified, then queued

    assert "/twilio/wait" in (reply.find("Redirect").text or "")  # type: ignore[union-attr]
    state = db.one("twilio_calls", call_sid=LONG_SID)
    assert state["memo"]["call"]["ani"] == SIP and state["step"] > 0
    entry = db.one("queue_entries", call_id=LONG_SID)
    assert (entry["caller_id"], entry["caller_e164"], entry["account_number"]) == (
        SIP, PHONE, NUMBER,
    )  # fmt: skip
    record = db.one("call_records", call_id=LONG_SID)
    assert (record["caller_id"], record["caller_e164"], record["queue"]) == (SIP, PHONE, "security")
    assert record["outcome"] is None  # held: open until the call ends
    [attempt] = db.rows("verification_attempts")
    assert (attempt["call_id"], attempt["ani_e164"], attempt["succeeded"]) == (
        LONG_SID, PHONE, True,
    )  # fmt: skip


def test_a_callsid_longer_than_255_characters_is_a_clear_400(
    client: FlaskClient,
    db: Db,
) -> None:
    before = db.dump()

    response = Phone(client, "CA" + "f" * 298, SIP).send("/twilio/voice")

    assert response.status_code == 400
    assert "/twilio/voice: CallSid is 300 characters long; at most 255" in response.text
    assert db.dump() == before


def test_a_callback_offered_to_a_sip_caller_dials_the_number(
    client: FlaskClient,
    db: Db,
) -> None:
    """The callback dialogue offers the number in the caller id ("ending in 8001") and
    the callback stores the E.164 number, not the SIP URI."""
    sign_in_busy(db)
    phone = Phone(client, "CA-sip-callback", SIP)
    reply = phone.follow(walk(phone, f"1 4 {NUMBER} {PIN}"))
    for _ in range(40):  # hold until the callback is offered (the one agent is busy)
        gather = reply.find("Gather")
        if gather is not None:
            break
        reply = phone.follow(reply)
    assert gather is not None
    choice = phone.press(reply, "1")  # yes, call me back
    assert "ending in 8 0 0 1" in " ".join(e.text or "" for e in choice.iter())
    told = phone.press(choice, "1")  # that number
    assert told[-1].tag == "Hangup"
    [callback] = db.rows("callbacks")
    assert callback["number"] == PHONE


# -- migration 0004 -------------------------------------------------------------------------------


def _insert(conn: sa.Connection, table: str, **values: Any) -> None:
    """One row, by plain SQL (the models are newer than the schema at 0003)."""

    def typed(name: str, value: Any) -> sa.ColumnClause[Any]:
        if isinstance(value, dict | list):
            return sa.column(name, sa.JSON())
        if isinstance(value, datetime):
            return sa.column(name, sa.DateTime(timezone=True))
        return sa.column(name)

    t = sa.table(table, *(typed(k, v) for k, v in values.items()))
    conn.execute(sa.insert(t).values(values))


def test_migration_0004_keeps_the_rows_of_0003_and_finds_their_numbers(
    database_url: str, clock: StoppedClock
) -> None:
    engine = connect(database_url)
    now = clock.now()
    try:
        command.upgrade(schema.alembic_config(engine), "0003")
        with engine.begin() as conn:
            _insert(conn, "agents", id=1, username="ana", name="Ana", password_hash="x",
                    role="agent", skills=["general"], languages=["en"], endpoint="1001",
                    state="offline", state_since=now)  # fmt: skip
            _insert(conn, "queue_entries", id=7, kind="call", call_id="1795423433.19",
                    queue="general", priority=1, skill="general", language="en",
                    caller_id=PHONE, account_number=NUMBER, path=["agent"], enqueued_at=now,
                    state="waiting")  # fmt: skip
            _insert(conn, "callbacks", entry_id=7, number=PHONE, language="en",
                    queue="general", code_salt="s", code_hash="h", created_at=now,
                    expires_at=now + timedelta(days=1), attempts=0, max_attempts=3,
                    state="waiting")  # fmt: skip
            _insert(conn, "agent_notes", agent_id=1, entry_id=7, call_id="1795423433.19",
                    caller_id=PHONE, disposition="resolved", text="ok", at=now)  # fmt: skip
            _insert(conn, "call_records", call_id="CA1", channel="twilio", caller_id=PHONE,
                    language="en", path=["a"], last_node="a", outcome="queued",
                    started_at=now, ended_at=now)  # fmt: skip
            _insert(conn, "call_records", call_id="console-1", channel="console",
                    caller_id="", language="en", path=["a"], last_node="a",
                    outcome="abandoned", started_at=now, ended_at=now)  # fmt: skip
            _insert(conn, "verification_attempts", account_number=NUMBER, ani=PHONE,
                    call_id="CA1", at=now, succeeded=False)  # fmt: skip
            _insert(conn, "callback_code_attempts", caller_id="1001", call_id="CA1", at=now,
                    succeeded=False)  # fmt: skip
            _insert(conn, "audit_log", at=now, actor="ivr", call_id="CA1", action="x",
                    detail={})  # fmt: skip
            _insert(conn, "twilio_calls", call_sid="CA1", step=2, memo={"a": 1}, updated_at=now)

        assert schema.upgrade(engine) == ("0003", schema.HEAD)

        db = Db(database_url)
        try:
            entry = db.one("queue_entries", id=7)
            assert (entry["caller_id"], entry["caller_e164"], entry["state"]) == (
                PHONE, PHONE, "waiting",
            )  # fmt: skip
            assert db.one("callbacks")["entry_id"] == 7
            assert db.one("agent_notes")["caller_e164"] == PHONE
            records = {r["call_id"]: r for r in db.rows("call_records")}
            assert records["CA1"]["caller_e164"] == PHONE
            assert (records["console-1"]["caller_id"], records["console-1"]["caller_e164"]) == (
                "", None,
            )  # fmt: skip
            attempt = db.one("verification_attempts")
            assert (attempt["ani"], attempt["ani_e164"]) == (PHONE, PHONE)
            code = db.one("callback_code_attempts")
            assert (code["caller_id"], code["caller_e164"]) == ("1001", None)
            assert db.one("twilio_calls")["memo"] == {"a": 1}
            assert db.one("audit_log")["call_id"] == "CA1"
        finally:
            db.close()
        _assert_indexes_as_in_the_models(engine)
        with engine.begin() as conn:  # what 0003 refused on PostgreSQL now fits
            _insert(conn, "call_records", call_id="CA" + "f" * 253, channel="twilio",
                    caller_id=NAMED * 20, language="en", path=[], last_node="a",
                    outcome="queued", started_at=now, ended_at=now,
                    last_seen_at=now)  # fmt: skip
            if engine.dialect.name == "sqlite":
                assert conn.execute(sa.text("PRAGMA foreign_key_check")).all() == []
    finally:
        engine.dispose()


def _assert_indexes_as_in_the_models(engine: sa.Engine) -> None:
    found = sa.inspect(engine)
    for table in m.Base.metadata.sorted_tables:
        expected = {i.name for i in table.indexes}
        present = {i["name"] for i in found.get_indexes(table.name)}
        assert expected <= present, table.name
        assert not {n for n in present - expected if "caller_id" in n or "ani_at" in n}
