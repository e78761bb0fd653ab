"""The environment buffer (bytes in, an environment out) on a captured FastAGI session,
fed in every possible split, and refusing what is over its limits without echoing it."""

from __future__ import annotations

import pytest
from agi_fake import transcript_environment

from ivr.app.config import Settings
from ivr.errors import IvrError
from ivr.phone.asterisk.agi_protocol import AgiEnvironment, AgiPeerError, OverLimit
from ivr.phone.asterisk.fastagi_limits import FastAgiLimits
from ivr.phone.asterisk.fastagi_lines import EnvironmentBuffer

BLOCK = "".join(f"{line}\n" for line in transcript_environment("fastagi_session.txt")) + "\n"


def feed_in_pieces(buffer: EnvironmentBuffer, data: bytes, size: int) -> AgiEnvironment | None:
    for start in range(0, len(data), size):
        environment = buffer.feed(data[start : start + size])
        if environment is not None:
            return environment
    return None


@pytest.mark.parametrize("size", [1, 2, 7, 64, 4096])
def test_a_captured_environment_is_read_whatever_the_pieces(size: int) -> None:
    buffer = EnvironmentBuffer(FastAgiLimits())
    environment = feed_in_pieces(buffer, BLOCK.encode() + b"200 result=0\n", size)
    assert environment is not None
    assert environment.network and environment.script == "hotline"
    assert b"200 result=0\n".startswith(buffer.rest)


def test_a_line_over_the_cap_is_refused_before_its_newline_without_its_bytes() -> None:
    buffer = EnvironmentBuffer(FastAgiLimits(max_line=100))
    assert buffer.feed(b"agi_network: yes\n" + b"x" * 100) is None
    with pytest.raises(OverLimit) as refused:
        buffer.feed(b"x")
    assert str(refused.value) == (
        "an environment line of over 100 bytes (101 bytes and no newline yet)"
    )
    assert refused.value.line == ""


def test_a_block_over_the_cap_is_refused() -> None:
    buffer = EnvironmentBuffer(FastAgiLimits(max_environment=1000))
    with pytest.raises(OverLimit, match="an environment of over 1000 bytes"):
        for n in range(100):
            buffer.feed(b"agi_arg_%d: %s\n" % (n, b"y" * 40))


def test_too_many_lines_are_refused() -> None:
    buffer = EnvironmentBuffer(FastAgiLimits(max_environment_lines=3))
    with pytest.raises(OverLimit, match="more than 3 lines"):
        buffer.feed(b"a: 1\nb: 2\nc: 3\nd: 4\n")


def test_garbage_and_bytes_that_are_not_utf8_are_refused_without_them() -> None:
    with pytest.raises(AgiPeerError, match="not UTF-8") as not_text:
        EnvironmentBuffer(FastAgiLimits()).feed(b"agi_x: \xff\xfe\n")
    assert not_text.value.line == ""
    with pytest.raises(AgiPeerError, match="not an AGI environment line"):
        EnvironmentBuffer(FastAgiLimits()).feed(b"GET / HTTP/1.1\n\n")


def test_the_caps_come_from_the_settings() -> None:
    settings = Settings.from_env({"IVR_FASTAGI_MAX_CALLS": "8", "IVR_FASTAGI_MAX_PENDING": "90"})
    limits = FastAgiLimits.from_settings(settings)
    assert (limits.max_calls, limits.max_pending) == (8, 90)
    assert FastAgiLimits.from_settings(Settings.from_env({})).max_calls == 256


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_a_cap_that_is_not_a_positive_whole_number_is_refused(value: str) -> None:
    with pytest.raises(IvrError, match="IVR_FASTAGI_MAX_PENDING must be"):
        Settings.from_env({"IVR_FASTAGI_MAX_PENDING": value})
