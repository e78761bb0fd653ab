"""Caller ids as the network sends them, and the E.164 number the hotline matches on
(``ivr.services.caller_numbers``); call ids and their bound (``ivr.services.call_ids``)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from fakes import FixedClock
from hypothesis import given
from hypothesis import strategies as st

from ivr.services.call_ids import MAX_CALL_ID, BadCallId, checked
from ivr.services.caller_numbers import callback_number, e164
from ivr.services.contact_entries import Entry
from ivr.web import payloads

E164_SHAPE = re.compile(r"^\+[1-9]\d{6,14}$")


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("+8613800138001", "+8613800138001"),
        ("sip:+8613800138001@pstn.example-carrier.com", "+8613800138001"),
        ("sips:+8613800138001@pstn.example-carrier.com:5061;transport=tls", "+8613800138001"),
        ("sip:+8613800138001;user=phone@carrier", "+8613800138001"),
        ("SIP:%2B8613800138001@carrier", "+8613800138001"),
        ("tel:+1-415-555-0102", "+14155550102"),
        ("tel:5550102;phone-context=+1415", "+14155550102"),
        ('"Li Wei" <sip:+8613800138001@x.example>', "+8613800138001"),
        ('"Omar" <sip:+447700900105@x.example>;tag=as1234', "+447700900105"),
        ("<tel:+447700900105>", "+447700900105"),
        ("+86 138 0013 8001", "+8613800138001"),
        ("+1 (415) 555-0102", "+14155550102"),
        ("+44.7700.900105", "+447700900105"),
        ("008613800138001", "+8613800138001"),
        ("  +8613800138001  ", "+8613800138001"),
    ],
)
def test_the_e164_number_is_found_in_each_form_a_network_sends(raw: str, number: str) -> None:
    assert e164(raw) == number


@pytest.mark.parametrize(
    "raw",
    [
        "",
        None,
        "anonymous",
        "Anonymous",
        "unknown",
        "restricted",
        "private",
        "sip:anonymous@anonymous.invalid",
        '"Restricted" <sip:restricted@carrier>',
        "e2e-caller",
        "1001",  # an extension
        "13800138001",  # national: which country?
        "4155550102",
        "01144 7700 900105",  # 011 is also a trunk prefix and an area code
        "tel:5550102",  # local, without a context
        "tel:5550102;phone-context=example.com",
        "+0123456789",  # no country code starts with 0
        "+1555",  # too short
        "+1234567890123456",  # 16 digits: too long
        "+86１３８００１３８００１",  # fullwidth digits
        "+86138001380a1",
    ],
)
def test_no_number_is_made_up(raw: str | None) -> None:
    assert e164(raw) is None


def test_a_caller_id_too_long_to_be_a_name_address_is_not_parsed() -> None:
    assert e164('"' + "x" * 600 + '" <sip:+8613800138001@x>') is None


@given(st.text(max_size=80))
def test_any_text_gives_none_or_an_e164_number(raw: str) -> None:
    found = e164(raw)
    assert found is None or E164_SHAPE.fullmatch(found)
    if found is not None:
        assert e164(found) == found


@given(st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True), st.sampled_from(
    ["{}", "sip:{}@carrier.example", '"A caller" <sip:{}@x>', "tel:{}", "<{}>"]
))  # fmt: skip
def test_every_form_of_a_number_gives_that_number(number: str, form: str) -> None:
    assert e164(form.format(number)) == number


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("sip:+8613800138001@pstn.example-carrier.com", "+8613800138001"),
        ("1001", "1001"),  # an extension: dialled as the PBX presented it
        ("13800138001", "13800138001"),
        ("anonymous", None),
        ("sip:alice@example.com", None),
        ("", None),
    ],
)
def test_a_callback_is_offered_to_the_number_or_plain_digits(raw: str, number: str | None) -> None:
    assert callback_number(raw) == number


# -- call ids ----------------------------------------------------------------------------------


def test_call_ids_up_to_the_bound_are_kept() -> None:
    sid = "CA" + "f" * 98
    assert checked(sid) == sid
    assert checked("x" * MAX_CALL_ID) == "x" * MAX_CALL_ID


@pytest.mark.parametrize(
    ("call_id", "message"),
    [
        ("", "CallSid is missing"),
        ("C" * (MAX_CALL_ID + 1), f"CallSid is 256 characters long; at most {MAX_CALL_ID}"),
        ("CA12\n34", "CallSid holds control characters"),
    ],
)
def test_a_call_id_that_cannot_be_stored_is_refused_saying_why(call_id: str, message: str) -> None:
    with pytest.raises(BadCallId) as refused:
        checked(call_id, "CallSid")
    assert str(refused.value) == message


# -- the screen pop -----------------------------------------------------------------------------


def entry(caller_id: str, at: datetime) -> Entry:
    return Entry(
        1, "call", "c1", "general", 0, "general", "zh", caller_id, None, None, (), at,
        "waiting", None, None, None, None, None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "number", "shown"),
    [
        ("+8613800138001", "+8613800138001", "+8613800138001"),
        (
            "sip:+8613800138001@pstn.example-carrier.com",
            "+8613800138001",
            "+8613800138001 (sip:+8613800138001@pstn.example-carrier.com)",
        ),
        ("e2e-agent", None, "e2e-agent"),
        ("", None, ""),
    ],
)
def test_the_screen_pop_shows_the_number_and_what_the_network_sent(
    clock: FixedClock, raw: str, number: str | None, shown: str
) -> None:
    body = payloads.entry(entry(raw, clock.now()), clock.now())
    assert (body["caller_id"], body["caller_number"], body["caller"]) == (raw, number, shown)
