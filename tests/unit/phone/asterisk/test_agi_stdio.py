"""The per-call script's reading of stdin: bounded lines and a bounded environment,
refused early with errors that carry none of the input."""

from __future__ import annotations

import io

import pytest

from ivr.phone.asterisk.agi_protocol import (
    MAX_ENVIRONMENT_BYTES,
    MAX_LINE_BYTES,
    AgiPeerError,
    OverLimit,
    read_environment,
)
from ivr.phone.asterisk.agi_stdio import StreamLines, describe


def lines(data: bytes) -> StreamLines:
    return StreamLines(io.BytesIO(data))


def test_lines_up_to_the_limit_are_read_whole_and_counted() -> None:
    longest = b"a" * (MAX_LINE_BYTES - 1) + b"\n"
    reader = lines(longest + b"b\n")
    assert reader.readline() == longest.decode()
    assert (reader.readline(), reader.number) == ("b\n", 2)
    assert reader.readline() == ""


def test_a_longer_line_is_refused_without_reading_it_all() -> None:
    stream = io.BytesIO(b"x" * 1_000_000 + b"\n")
    reader = StreamLines(stream)
    with pytest.raises(OverLimit) as refused:
        reader.readline()
    assert str(refused.value) == f"a line of over {MAX_LINE_BYTES} bytes"
    assert stream.tell() == MAX_LINE_BYTES + 1


def test_bytes_that_are_not_utf8_are_replaced_not_fatal() -> None:
    assert lines(b"agi_calleridname: Jos\xe9\n").readline() == "agi_calleridname: Jos\ufffd\n"


def test_garbage_is_refused_at_its_own_line_before_any_blank_line() -> None:
    reader = lines(b"agi_request: hotline.agi\n\x89PNG\r\n\x1a\n" + b"z" * 5000)
    with pytest.raises(AgiPeerError, match="not an AGI environment line"):
        read_environment(reader.readline)
    assert reader.number == 2


def test_an_environment_over_its_byte_limit_is_refused_while_it_arrives() -> None:
    line = b"agi_x: " + b"y" * 4000 + b"\n"
    reader = lines(line * 100 + b"\n")
    with pytest.raises(OverLimit) as refused:
        read_environment(reader.readline)
    assert str(refused.value) == f"an AGI environment of over {MAX_ENVIRONMENT_BYTES} bytes"
    assert reader.number == MAX_ENVIRONMENT_BYTES // len(line) + 1


def test_a_failure_is_described_in_one_short_line_with_where_it_happened() -> None:
    try:
        int("9" * 5000)
    except ValueError as exc:
        said = describe(exc)
    assert said.startswith("ValueError: ") and "\n" not in said
    assert len(said) < 250 and "test_agi_stdio.py:" in said
