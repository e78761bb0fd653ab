"""Recording the caller over AGI: ``RECORD FILE``'s replies as values (literal lines in
the forms res_agi.c sends them) and the driver's ``Record`` performer against a scripted
Asterisk: a recording kept, silence and a failed file discarded, a hang-up mid-record
(the partial file deleted), and an unwritable recordings folder."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import pytest

from ivr.flow import actions as act
from ivr.flow.events import HungUp, Recorded
from ivr.phone.asterisk import agi_protocol as proto
from ivr.phone.asterisk.agi_driver import AgiDriver
from ivr.phone.asterisk.agi_line import AgiLine
from ivr.phone.asterisk.agi_protocol import AgiEnvironment


@pytest.mark.parametrize(
    ("line", "meaning"),
    [
        ("200 result=35 (dtmf) endpos=48000", proto.Recording("dtmf", 48000)),
        ("200 result=0 (timeout) endpos=80000", proto.Recording("timeout", 80000)),
        ("200 result=-1 (writefile)", proto.NotRecorded("writefile")),
        ("200 result=-1 (waitfor) endpos=1200", proto.NotRecorded("waitfor")),
        ("200 result=-1 (randomerror) endpos=0", proto.NotRecorded("randomerror")),
        ("200 result=-1 (hangup) endpos=16000", proto.LineGone("(hangup)")),
        ("511 Command Not Permitted on a dead channel or intercept routine",
         proto.LineGone("511 (dead channel)")),
    ],
)  # fmt: skip
def test_record_file_replies_mean_what_asterisk_says(line: str, meaning: object) -> None:
    assert proto.recorded(proto.parse_reply(line + "\n")) == meaning


def test_the_record_command_is_written_safely() -> None:
    command = proto.record_file("/var/rec/call-1-s_record-9", 60000, 3)
    assert command == "RECORD FILE /var/rec/call-1-s_record-9 wav # 60000 s=3\n"


class ScriptedAsterisk:
    """Answers each command with the next scripted reply (``OK`` for everything but
    ``RECORD FILE``, whose reply is given, and which writes the file the way Asterisk does)."""

    def __init__(self, record_reply: str, writes: bytes | None = b"RIFF....WAVE") -> None:
        self.record_reply = record_reply
        self.writes = writes
        self.commands: list[str] = []
        self.replies: deque[str] = deque()

    def write(self, text: str) -> int:
        command = text.rstrip("\n")
        self.commands.append(command)
        if command.startswith("RECORD FILE "):
            path = Path(command.split(" ")[2] + ".wav")
            if self.writes is not None and path.parent.is_dir():
                path.write_bytes(self.writes)
            self.replies.append(self.record_reply + "\n")
        else:
            self.replies.append("200 result=0\n")
        return len(text)

    def flush(self) -> None:
        pass

    def readline(self) -> str:
        return self.replies.popleft() if self.replies else ""


RECORD = act.Record("s_record", (), 30, "call-1-s_record-9")


def driver_on(fake: ScriptedAsterisk, folder: Path | None) -> AgiDriver:
    driver = AgiDriver(AgiLine(fake, fake, AgiEnvironment(())), "call-1")
    driver.recordings = folder
    return driver


def test_a_recording_ended_by_hash_is_kept(tmp_path: Path) -> None:
    fake = ScriptedAsterisk("200 result=35 (dtmf) endpos=40000")
    answer = driver_on(fake, tmp_path / "rec").perform([RECORD], "s_record")
    assert answer == Recorded("call-1-s_record-9", "call-1-s_record-9.wav")
    assert fake.commands == [f"RECORD FILE {tmp_path}/rec/call-1-s_record-9 wav # 30000 s=3"]
    assert (tmp_path / "rec" / "call-1-s_record-9.wav").exists()


@pytest.mark.parametrize(
    "reply",
    ["200 result=0 (timeout) endpos=8000", "200 result=-1 (waitfor) endpos=100"],
    ids=["silence", "a channel failure"],
)
def test_nothing_usable_is_discarded(tmp_path: Path, reply: str) -> None:
    fake = ScriptedAsterisk(reply)
    answer = driver_on(fake, tmp_path).perform([RECORD], "s_record")
    assert answer == Recorded(None)
    assert list(tmp_path.iterdir()) == []


def test_a_hang_up_mid_record_deletes_the_partial_file(tmp_path: Path) -> None:
    fake = ScriptedAsterisk("200 result=-1 (hangup) endpos=24000")
    answer = driver_on(fake, tmp_path).perform([RECORD], "s_record")
    assert answer == HungUp()
    assert list(tmp_path.iterdir()) == []


def test_a_recordings_folder_that_cannot_be_made_records_nothing(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    fake = ScriptedAsterisk("200 result=35 (dtmf) endpos=40000")
    answer = driver_on(fake, blocked / "rec").perform([RECORD], "s_record")
    assert answer == Recorded(None)
    assert fake.commands == []  # Asterisk was not asked to write where nothing can be


def test_asterisk_refusing_to_write_the_file_records_nothing(tmp_path: Path) -> None:
    fake = ScriptedAsterisk("200 result=-1 (writefile)", writes=None)
    assert driver_on(fake, tmp_path).perform([RECORD], "s_record") == Recorded(None)
