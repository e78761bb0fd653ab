"""Callback reference codes: derived, hashed, compared; the wrong-code lockout."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from start_date import OPEN_UTC

from ivr.services import tokens

NOW = OPEN_UTC
SECRET = b"unit-test-secret"


@given(st.binary(min_size=1, max_size=64), st.text(max_size=40))
def test_a_code_is_six_digits_and_the_same_every_time(secret: bytes, salt: str) -> None:
    code = tokens.derive_code(secret, salt)
    assert tokens.well_formed(code)
    assert tokens.derive_code(secret, salt) == code


def test_the_code_depends_on_the_secret_and_the_salt() -> None:
    codes = {tokens.derive_code(SECRET, f"salt-{n}") for n in range(200)}
    assert len(codes) > 190  # six digits: a few clashes at most
    assert tokens.derive_code(SECRET, "a") != tokens.derive_code(b"other", "a")


def test_the_hash_is_an_hmac_that_never_contains_the_code() -> None:
    code = tokens.derive_code(SECRET, "salt")
    digest = tokens.hash_code(SECRET, code)
    assert len(digest) == 64 and code not in digest
    assert digest == tokens.hash_code(SECRET, code)
    assert digest != tokens.hash_code(b"other", code)
    assert tokens.codes_match(digest, tokens.hash_code(SECRET, code))
    assert not tokens.codes_match(code, "000000" if code != "000000" else "111111")


def test_well_formed() -> None:
    assert tokens.well_formed("012345")
    assert not any(map(tokens.well_formed, ["", "12345", "1234567", "12345a", "١٢٣٤٥٦"]))


def test_five_wrong_codes_within_15_minutes_lock_for_30() -> None:
    spread = [NOW + timedelta(minutes=3 * i) for i in range(5)]  # 12 minutes apart end to end
    last = spread[-1]
    assert not tokens.locked_out(spread[:4], last)
    assert tokens.locked_out(spread, last)
    assert tokens.locked_out(spread, last + timedelta(minutes=29, seconds=59))
    assert not tokens.locked_out(spread, last + timedelta(minutes=30))
    slow = [NOW + timedelta(minutes=4 * i) for i in range(5)]  # 16 minutes: no lock
    assert not tokens.locked_out(slow, slow[-1])
