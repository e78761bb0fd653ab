"""PIN hashes keyed with the pepper (``IVR_PEPPER_FILE``), which the database never holds:
a legacy hash (before the pepper) still verifies and is rewritten in peppered form on
the next successful check, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable

from integration.support import EMMA, Db, StoppedClock
from ivr.app.bootstrap import Components
from ivr.flow.actions import RunAction
from ivr.flow.model import VERIFY_ACTION
from ivr.services import pins

#: A fast legacy hash (scrypt n=2**4), as an older release stored it: no pepper.
LEGACY_N = 2**4


def legacy_hash(pin: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=LEGACY_N, r=8, p=1, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${LEGACY_N}$8$1${b64(salt).decode()}${b64(digest).decode()}"


def verify(hotline: Components, number: str, pin: str, ani: str) -> str:
    args = {"account_number": number, "pin": pin, "ani": ani, "call_id": "call-pepper"}
    action = RunAction("check_identity", VERIFY_ACTION, args, frozenset({"pin"}))
    return hotline.use_cases.run(action).outcome


def test_a_hash_made_with_one_pepper_needs_that_pepper() -> None:
    stored = pins.hash_pin("246810", b"pepper A", n=2**4)
    assert stored.startswith("scrypt-hmac$16$8$1$")
    assert pins.pin_matches("246810", stored, b"pepper A")
    assert not pins.pin_matches("246810", stored, b"pepper B")
    assert not pins.pin_matches("246810", stored, None)
    assert not pins.pin_matches("246811", stored, b"pepper A")


def test_a_legacy_hash_verifies_and_is_peppered_after_a_successful_check(
    db: Db, make_hotline: Callable[..., Components], clock: StoppedClock
) -> None:
    number, pin, phone = EMMA
    legacy = legacy_hash(pin)
    db.execute("UPDATE accounts SET pin_hash = :h WHERE number = :n", h=legacy, n=number)
    hotline = make_hotline(db.url, clock)

    assert verify(hotline, number, pin, phone) == "success"

    stored = db.one("accounts", number=number)["pin_hash"]
    assert stored != legacy and stored.startswith("scrypt-hmac$1024$8$1$")
    assert pins.pin_matches(pin, stored, hotline.pepper)
    assert not pins.pin_matches(pin, stored, None)
    assert verify(hotline, number, pin, phone) == "success"  # the new form verifies too


def test_a_legacy_hash_is_left_alone_after_a_failed_check(
    db: Db, make_hotline: Callable[..., Components], clock: StoppedClock
) -> None:
    number, pin, phone = EMMA
    legacy = legacy_hash(pin)
    db.execute("UPDATE accounts SET pin_hash = :h WHERE number = :n", h=legacy, n=number)
    hotline = make_hotline(db.url, clock)

    assert verify(hotline, number, "000000", phone) == "failure"

    assert db.one("accounts", number=number)["pin_hash"] == legacy


def test_a_peppered_hash_does_not_verify_under_another_pepper(
    db: Db, make_hotline: Callable[..., Components], clock: StoppedClock
) -> None:
    number, pin, phone = EMMA
    hotline = make_hotline(db.url, clock)
    hotline.__dict__["pepper"] = b"another pepper"  # the deployment lost its pepper file

    assert verify(hotline, number, pin, phone) == "failure"
