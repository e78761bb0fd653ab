"""``PepperedPins``, the PIN checker the hotline uses: right and wrong PINs, no account,
legacy hashes upgraded, and at most ``slots`` checks at once (the rest wait, then give up
with ``PinCheckBusy``, which sends the caller down the flow's error route)."""

from __future__ import annotations

import base64
import hashlib
import os
import threading

import pytest

from ivr.services import pins

PEPPER = b"unit-pepper"
FAST = 2**4  # scrypt cost for tests: the checks are the same, only faster


def checker(slots: int = 2, wait: float = 5.0) -> pins.PepperedPins:
    return pins.PepperedPins(lambda: PEPPER, slots, wait)


def test_the_right_pin_matches_and_a_wrong_one_or_no_account_does_not() -> None:
    stored = pins.hash_pin("246810", PEPPER, n=FAST)
    check = checker()
    assert check.matches("246810", stored)
    assert not check.matches("246811", stored)
    assert not check.matches("246810", None)  # the decoy is hashed, and never matches


def test_a_legacy_hash_is_upgraded_after_a_match_and_a_peppered_one_is_not() -> None:
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"246810", salt=salt, n=FAST, r=8, p=1, dklen=32)
    b64 = base64.b64encode
    legacy = f"scrypt${FAST}$8$1${b64(salt).decode()}${b64(digest).decode()}"
    check = checker()
    assert check.matches("246810", legacy)
    upgraded = check.upgraded("246810", legacy)
    assert upgraded is not None and upgraded.startswith("scrypt-hmac$")
    assert check.matches("246810", upgraded)
    assert check.upgraded("246810", upgraded) is None


def test_a_hash_of_another_cost_is_rewritten_at_the_current_cost_after_a_match() -> None:
    old = pins.hash_pin("246810", PEPPER, n=FAST)
    check = checker()
    assert pins.needs_upgrade(old) and not pins.needs_upgrade(old, n=FAST)
    upgraded = check.upgraded("246810", old)
    assert upgraded is not None and upgraded.startswith(f"scrypt-hmac${pins.N}$8$1$")
    assert check.matches("246810", upgraded) and check.upgraded("246810", upgraded) is None
    assert pins.needs_upgrade("garbage") and pins.needs_upgrade("")


def test_an_unknown_account_costs_the_same_hashing_as_a_known_one() -> None:
    assert pins.DECOY.split("$")[1:4] == [str(pins.N), str(pins.R), str(pins.P)]


def test_checks_beyond_the_slots_wait_then_give_up() -> None:
    check = checker(slots=1, wait=0.05)
    stored = pins.hash_pin("246810", PEPPER, n=FAST)
    with check._slot():  # another caller's check is hashing
        with pytest.raises(pins.PinCheckBusy, match="no PIN check slot free"):
            check.matches("246810", stored)
    assert check.matches("246810", stored)  # the slot is free again


def test_a_waiting_check_runs_once_a_slot_frees() -> None:
    check = checker(slots=1, wait=30.0)
    stored = pins.hash_pin("246810", PEPPER, n=FAST)
    results: list[bool] = []
    with check._slot():
        waiter = threading.Thread(target=lambda: results.append(check.matches("246810", stored)))
        waiter.start()
        waiter.join(0.2)
        assert waiter.is_alive() and results == []  # waiting its turn
    waiter.join(30)
    assert results == [True]


def test_one_slot_per_core_by_default() -> None:
    assert pins.PepperedPins(lambda: PEPPER).slots == (os.cpu_count() or 1)
