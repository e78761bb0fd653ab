"""The AGI protocol as values, on literal transcripts: ``tests/fixtures/agi/`` holds sessions
captured from a real Asterisk 22 (process AGI and FastAGI; a caller hanging up; a missing
prompt file), replies to keys, and garbage. Lines starting ``>> `` are what the script sent,
``## `` lines are notes, everything else is verbatim from Asterisk."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from agi_fake import parse_args
from hypothesis import given
from hypothesis import strategies as st

from ivr.errors import IvrError
from ivr.phone.asterisk import agi_protocol as proto
from ivr.phone.asterisk.agi_protocol import (
    END_OF_INPUT,
    HANGUP_LINE,
    AgiLocalError,
    AgiPeerError,
    CommandUsage,
    Entered,
    Failed,
    InvalidCommand,
    KeyPressed,
    LineGone,
    NoKey,
    Reply,
    UnsafeArgument,
)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "agi"
CAPTURED = sorted(p.name for p in FIXTURES.glob("*_session.txt")) + sorted(
    p.name for p in FIXTURES.glob("*_caller_hangs_up.txt")
) + ["fastagi_missing_file.txt"]  # fmt: skip


@dataclass
class Transcript:
    environment: list[str] = field(default_factory=list)  # lines with their newlines
    exchanges: list[tuple[str, list[str]]] = field(default_factory=list)  # command, replies

    def replies_to(self, command: str, nth: int = 0) -> list[str]:
        """What Asterisk answered to the ``nth`` time (-1: the last) ``command`` was sent."""
        found = [replies for sent, replies in self.exchanges if sent == command + "\n"]
        assert found, f"{command!r} is not in the transcript"
        return found[nth]


def load(name: str) -> Transcript:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    transcript = Transcript()
    in_environment = not text.lstrip("#").lstrip().startswith(">>") and "agi_" in text
    for line in text.splitlines(keepends=True):
        if line.startswith("## "):
            continue
        if in_environment:
            if line.strip() == "":
                in_environment = False
            else:
                transcript.environment.append(line)
        elif line.startswith(">> "):
            transcript.exchanges.append((line[3:], []))
        else:
            transcript.exchanges[-1][1].append(line)
    return transcript


def lines_of(lines: list[str]) -> Callable[[], str]:
    """``readline`` over these lines: ``""`` once they run out (end of input)."""
    queue: Iterator[str] = iter(lines)
    return lambda: next(queue, "")


def reply_to(name: str, command: str) -> Reply | LineGone:
    return proto.read_reply(lines_of(load(name).replies_to(command)))


# -- the environment ---------------------------------------------------------------------------


def test_process_environment_from_asterisk_22() -> None:
    transcript = load("process_session.txt")
    env = proto.read_environment(lines_of([*transcript.environment, "\n", "200 result=0\n"]))

    assert not env.network
    assert env.call_id == "1795423433.19"
    assert env.caller_id == "+8613800138001" and env.caller_name == "Li Wei"
    assert env.dnid == ""  # "unknown"
    assert env.language == "en" and env.context == "capture" and env.extension == "proc"
    assert env.channel.startswith("Local/proc@capture-")
    assert env.args == ("full", "two words: colon")  # a value keeps its colons
    assert env["agi_accountcode"] == "" and env.get("agi_enhanced") == "0.0"
    assert env.get("agi_missing") is None and "agi_version" in env
    assert env.script == ""  # not FastAGI: no network script


def test_fastagi_environment_routes_on_its_script_and_query() -> None:
    env = proto.parse_environment(load("fastagi_session.txt").environment)

    assert env.network
    assert env.items[0] == ("agi_network", "yes")
    assert env.network_script == "hotline?scenario=full&x=a:b"
    assert env.script == "hotline"
    assert env.script_args == {"scenario": "full", "x": "a:b"}
    assert env.args == ("arg1",)
    assert env.caller_id == "+8613800138001" and env.caller_name == ""  # "unknown"


def test_the_network_script_falls_back_to_the_request_url() -> None:
    env = proto.parse_environment(
        ["agi_network: yes\n", "agi_request: agi://127.0.0.1:4573/hotline?lang=zh\n"]
    )

    assert env.script == "hotline" and env.script_args == {"lang": "zh"}


def test_reading_the_environment_stops_at_its_blank_line() -> None:
    lines = [*load("fastagi_session.txt").environment, "\n", "200 result=0\n"]
    read = lines_of(lines)

    proto.read_environment(read)

    assert read() == "200 result=0\n"


@pytest.mark.parametrize(
    "lines",
    [
        ["agi_request: x\n"],  # ends before its blank line
        ["agi_request: x\n", "no colon here\n", "\n"],
        ["agi request: x\n", "\n"],
    ],
    ids=["eof", "no-colon", "bad-key"],
)
def test_a_broken_environment_is_the_peers_error(lines: list[str]) -> None:
    with pytest.raises(AgiPeerError) as caught:
        proto.read_environment(lines_of(lines))

    assert isinstance(caught.value, IvrError)


def test_an_environment_that_never_ends_is_refused() -> None:
    with pytest.raises(AgiPeerError, match="does not end"):
        proto.read_environment(lambda: "agi_arg_1: again\n")


# -- replies from the captured sessions --------------------------------------------------------


@pytest.mark.parametrize("name", CAPTURED)
def test_every_line_asterisk_sent_reads_as_a_reply_or_a_notice(name: str) -> None:
    for command, replies in load(name).exchanges:
        read = lines_of(replies)
        while True:
            try:
                reply = proto.read_reply(read)
            except (InvalidCommand, CommandUsage):
                assert command.split()[0] in ("FOO", "STREAM", "SAY")
                continue
            if reply is END_OF_INPUT:
                break
            assert reply is HANGUP_LINE or isinstance(reply, Reply)


def test_a_prompt_that_played_to_its_end() -> None:
    reply = reply_to("process_session.txt", "STREAM FILE beep 0123456789*#")

    assert reply == Reply(200, result="0", endpos=3404)
    assert proto.heard(reply) == NoKey()


def test_say_and_wait_for_digit_without_a_key() -> None:
    for command in ('SAY NUMBER 42 ""', 'SAY DIGITS 8001 ""', "WAIT FOR DIGIT 100"):
        assert proto.heard(reply_to("process_session.txt", command)) == NoKey()


def test_get_data_timing_out_with_nothing_pressed() -> None:
    reply = reply_to("fastagi_session.txt", "GET DATA beep 100 4")

    assert reply == Reply(200, result="", data="timeout")
    assert proto.entered(reply) == Entered("", timed_out=True)


def test_set_variable_then_get_variable_reads_back_our_quoting() -> None:
    value = 'a "b" c\\d'
    transcript = load("process_session.txt")

    command = proto.set_variable("IVR_TEST", value)

    assert proto.completed(proto.read_reply(lines_of(transcript.replies_to(command[:-1])))) is None
    read_back = reply_to("process_session.txt", "GET VARIABLE IVR_TEST")
    assert read_back == Reply(200, result="1", data=value)
    assert reply_to("process_session.txt", "GET VARIABLE IVR_EMPTY") == Reply(200, "1", data="")


def test_510_is_our_error_and_carries_the_line() -> None:
    with pytest.raises(InvalidCommand) as caught:
        reply_to("process_session.txt", "FOO BAR")

    assert isinstance(caught.value, AgiLocalError)
    assert caught.value.line == "510 Invalid or unknown command\n"
    assert "510 Invalid or unknown command" in str(caught.value)


def test_a_520_block_is_read_to_its_end() -> None:
    replies = load("process_session.txt").replies_to("STREAM FILE")
    read = lines_of([*replies, "200 result=1\n"])

    with pytest.raises(CommandUsage) as caught:
        proto.read_reply(read)

    assert caught.value.line.startswith("520-Invalid command syntax.  Proper usage follows:\n")
    assert caught.value.line.endswith("520 End of proper usage.\n")
    assert caught.value.usage[0].startswith("Send the given file")
    assert caught.value.usage[-1] == "    <value>FAILED</value>"
    assert proto.read_reply(read) == Reply(200, result="1")  # the next reply, in step


def test_a_single_line_520() -> None:
    with pytest.raises(CommandUsage) as caught:
        reply_to("keys_and_data.txt", "STREAM FILE")

    assert caught.value.usage == ()


def test_a_520_block_cut_short_is_the_peers_error() -> None:
    with pytest.raises(AgiPeerError, match="ended early"):
        proto.read_reply(lines_of(["520-Invalid command syntax.  Proper usage follows:\n"]))


def test_a_520_block_that_never_ends_is_refused() -> None:
    lines = iter(["520-Invalid command syntax.  Proper usage follows:\n"])

    with pytest.raises(AgiPeerError, match="does not end"):
        proto.read_reply(lambda: next(lines, "more usage\n"))


def test_our_hangup_then_511_for_the_process() -> None:
    transcript = load("process_session.txt")

    assert proto.completed(proto.read_reply(lines_of(transcript.replies_to("HANGUP")))) is None
    dead = proto.read_reply(lines_of(transcript.replies_to("WAIT FOR DIGIT 100", -1)))
    assert dead == Reply(511, text="Command Not Permitted on a dead channel or intercept routine")
    assert proto.heard(dead) == LineGone("511 (dead channel)")


def test_our_hangup_then_a_hangup_line_for_fastagi() -> None:
    read = lines_of(load("fastagi_session.txt").replies_to("HANGUP"))

    assert proto.read_reply(read) == Reply(200, result="1")
    assert proto.read_reply(read) is HANGUP_LINE
    assert proto.gone(HANGUP_LINE) == LineGone("HANGUP")


@pytest.mark.parametrize("name", ["process_caller_hangs_up.txt", "fastagi_caller_hangs_up.txt"])
def test_the_caller_hanging_up_during_a_wait(name: str) -> None:
    transcript = load(name)

    during = proto.read_reply(lines_of(transcript.replies_to("WAIT FOR DIGIT 10000")))
    assert during == Reply(200, result="-1")
    assert proto.heard(during) == Failed()  # -1 alone: hung up, or failed?
    after = lines_of(transcript.exchanges[3][1])  # CHANNEL STATUS settles it
    assert transcript.exchanges[3][0] == "CHANNEL STATUS\n"
    assert isinstance(proto.channel_up(proto.read_reply(after)), LineGone)


def test_a_missing_file_is_minus_one_on_a_live_channel() -> None:
    transcript = load("fastagi_missing_file.txt")

    played = proto.read_reply(lines_of(transcript.replies_to('STREAM FILE nosuchfile ""')))
    status = proto.read_reply(lines_of(transcript.replies_to("CHANNEL STATUS")))

    assert played == Reply(200, result="-1", endpos=0)
    assert proto.heard(played) == Failed()
    assert status == Reply(200, result="6")
    assert proto.channel_up(status) is None  # the caller is still there


def test_end_of_input_is_the_caller_gone() -> None:
    assert proto.read_reply(lines_of([])) is END_OF_INPUT
    assert proto.heard(END_OF_INPUT) == LineGone("end of input")
    assert proto.completed(END_OF_INPUT) == LineGone("end of input")
    assert proto.channel_up(END_OF_INPUT) == LineGone("end of input")


# -- keys --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "key"),
    [
        ("STREAM FILE en/choose_language 0123456789*#", "1"),
        ("WAIT FOR DIGIT 5000", "3"),
    ],
)
def test_a_key_is_its_ascii_code(command: str, key: str) -> None:
    assert proto.heard(reply_to("keys_and_data.txt", command)) == KeyPressed(key)


def test_star_and_pound() -> None:
    waits = [r for c, r in load("keys_and_data.txt").exchanges if c == "WAIT FOR DIGIT 5000\n"]

    keys = [proto.heard(proto.read_reply(lines_of(r))) for r in waits]

    assert keys == [KeyPressed("3"), KeyPressed("#"), KeyPressed("*")]


def test_a_barge_in_reply_keeps_its_endpos() -> None:
    reply = reply_to("keys_and_data.txt", "STREAM FILE en/choose_language 0123456789*#")

    assert reply == Reply(200, result="49", endpos=12345)


def test_get_data_replies() -> None:
    replies = [r for c, r in load("keys_and_data.txt").exchanges if c.startswith("GET DATA")]

    meanings = [proto.entered(proto.read_reply(lines_of(r))) for r in replies]

    assert meanings == [
        Entered("246810", timed_out=False),
        Entered("24", timed_out=True),
        Entered("", timed_out=True),
        Failed(),
    ]


def test_a_key_reply_that_is_not_a_key() -> None:
    with pytest.raises(AgiPeerError) as caught:
        proto.heard(proto.parse_reply("200 result=7\n"))

    assert caught.value.line == "200 result=7\n"


def test_hangup_data_is_the_caller_gone() -> None:
    assert proto.heard(proto.parse_reply("200 result=-1 (hangup) endpos=0\n")) == LineGone(
        "(hangup)"
    )


def test_a_reply_does_not_show_its_line_in_repr() -> None:
    reply = proto.parse_reply("200 result=50\n")

    assert isinstance(reply, Reply) and reply.line == "200 result=50\n"
    assert "line" not in repr(reply)


# -- garbage -----------------------------------------------------------------------------------


def garbage() -> list[str]:
    text = (FIXTURES / "garbage.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines(keepends=True) if not line.startswith("## ")]


@pytest.mark.parametrize("line", garbage(), ids=repr)
def test_garbage_is_the_peers_error_and_carries_the_line(line: str) -> None:
    with pytest.raises(AgiPeerError) as caught:
        proto.read_reply(lines_of([line]))

    assert caught.value.line == line


def test_the_garbage_fixture_holds_an_empty_line() -> None:
    assert "\n" in garbage()


# -- commands ----------------------------------------------------------------------------------


def test_builders_write_what_asterisk_took_in_the_captured_session() -> None:
    sent = {command for command, _ in load("process_session.txt").exchanges}

    built = [
        proto.answer(),
        proto.stream_file("beep", proto.KEYPAD),
        proto.stream_file("beep", ""),
        proto.say_number(42, ""),
        proto.say_digits("8001", ""),
        proto.wait_for_digit(100),
        proto.set_variable("IVR_TEST", 'a "b" c\\d'),
        proto.set_variable("IVR_EMPTY", ""),
        proto.hangup(),
    ]

    assert set(built) <= sent


def test_command_formatting() -> None:
    assert proto.stream_file("en/welcome") == 'STREAM FILE en/welcome ""\n'
    assert proto.set_variable("IVR_LANGUAGE", "en") == 'SET VARIABLE IVR_LANGUAGE "en"\n'
    assert proto.format_command("EXEC", "Playback", "a b") == 'EXEC Playback "a b"\n'
    assert proto.channel_status() == "CHANNEL STATUS\n"
    assert proto.join_command("STREAM FILE", "x", '"12"', 0) == 'STREAM FILE x "12" 0\n'
    assert proto.variable_name("phone_last4") == "PHONE_LAST4"
    assert proto.variable_name("a-b c") == "A_B_C"


@pytest.mark.parametrize(
    "build",
    [
        lambda: proto.set_variable("IVR_X", "two\nlines"),
        lambda: proto.set_variable("IVR_X", "nul\0"),
        lambda: proto.stream_file("en/x\r", ""),
        lambda: proto.set_variable("IVR X", "y"),
        lambda: proto.format_command("stream file", "x"),
        lambda: proto.join_command("NOOP\nHANGUP"),
    ],
)
def test_a_command_that_would_break_the_line_is_refused(build: Callable[[], str]) -> None:
    with pytest.raises(UnsafeArgument):
        build()


@given(st.text(alphabet=st.characters(blacklist_characters="\n\r\0")))
def test_any_value_reaches_asterisk_intact(value: str) -> None:
    words = parse_args(proto.set_variable("IVR_X", value))

    assert words == ["SET", "VARIABLE", "IVR_X", value]


@given(st.text(alphabet=st.characters(blacklist_characters="\n\r\0"), min_size=1))
def test_a_bare_or_quoted_argument_is_one_word(value: str) -> None:
    assert parse_args(proto.format_command("NOOP", value)) == ["NOOP", value]


def test_a_secret_command_is_logged_as_its_verb_and_a_mask() -> None:
    assert proto.redacted(proto.say_digits("304091", "")) == "SAY DIGITS ******"
    assert proto.redacted(proto.stream_file("zh/digits/3", "#")) == "STREAM FILE ******"
