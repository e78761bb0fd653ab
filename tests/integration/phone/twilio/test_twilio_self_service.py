"""Issue 13, items 7 and 8, over signed Twilio webhooks on a real seeded database (SQLite
and PostgreSQL): the caller's latest transactions, a frozen account sent to security, a
closed account's owner told so."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask.testing import FlaskClient

from integration.phone.twilio.test_twilio_voice import BASE, TOKEN, Phone, said, twilio_client
from integration.support import CHEN_JIE, OMAR, ZHANG_MIN, Db, sign_in_busy
from ivr.app.bootstrap import Components


@pytest.fixture
def client(hotline: Components, db: Db) -> FlaskClient:
    hotline.settings = replace(
        hotline.settings, twilio_auth_token=TOKEN, public_url=BASE, secret_key="k" * 32
    )
    sign_in_busy(db)  # callers sent to a person are held in line, not offered a callback
    return twilio_client(hotline)


def walk(phone: Phone, keys: list[str]) -> list[str]:
    """Press ``keys`` one gather at a time; what was said or played after each."""
    reply = phone.start()
    heard = [said(reply)]
    for key in keys:
        reply = phone.press(reply, key)
        heard.append(said(reply))
    return heard


def ended(phone: Phone, db: Db) -> dict[str, object]:
    """The call's record once Twilio says the call is over."""
    assert phone.send("/twilio/status", CallStatus="completed").status_code == 204
    return db.one("call_records", call_id=phone.sid)


def test_the_latest_transactions_are_read_over_twilio(client: FlaskClient, db: Db) -> None:
    number, pin, caller = OMAR
    phone = Phone(client, "CA-transactions", caller)

    heard = walk(phone, ["1", "6", number, pin, "9"])

    reading = heard[-2]  # after the PIN: the three transactions, then the question
    assert "Corner Cafe" in reading or "/en/recent_last_three" in reading
    record = ended(phone, db)
    assert (record["channel"], record["reason"], record["outcome"]) == (
        "twilio", "transactions", "solved",
    )  # fmt: skip
    assert record["account_number"] == number
    path = record["path"]
    assert isinstance(path, list)
    assert path[path.index("recent_lookup") :] == [
        "recent_lookup", "recent_list", "recent_three", "recent_menu", "goodbye",
    ]  # fmt: skip
    audit = db.one("audit_log", action="transactions_read")
    assert (audit["call_id"], audit["detail"]) == (phone.sid, {"count": 3})
    assert pin not in db.dump()


def test_a_frozen_account_on_the_payment_branch_goes_to_security_over_twilio(
    client: FlaskClient, db: Db
) -> None:
    number, pin, caller = CHEN_JIE
    phone = Phone(client, "CA-frozen", caller)

    heard = walk(phone, ["2", "2", number, pin])

    assert "冻结" in heard[-1] or "/zh/account_is_frozen" in heard[-1]
    record = ended(phone, db)
    assert record["queue"] == "security" and record["reason"] == "payment_failure"
    path = record["path"]
    assert isinstance(path, list) and "account_is_frozen" in path
    assert "payment_lookup" not in path
    assert db.count("audit_log", action="failed_payment_looked_up") == 0


def test_a_closed_accounts_owner_is_told_over_twilio(client: FlaskClient, db: Db) -> None:
    number, pin, caller = ZHANG_MIN
    db.execute("UPDATE accounts SET status = 'closed' WHERE number = :n", n=number)
    phone = Phone(client, "CA-closed", caller)

    heard = walk(phone, ["1", "2", number, pin])

    assert "This account is closed" in heard[-1] or "/en/account_closed" in heard[-1]
    assert "don't match" not in heard[-1]
    record = ended(phone, db)
    assert record["queue"] == "closure" and record["account_number"] is None
    path = record["path"]
    assert isinstance(path, list) and "account_closed" in path and "verify_failed" not in path
