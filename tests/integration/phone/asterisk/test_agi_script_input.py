"""``agi_scripts/hotline.agi`` as Asterisk runs it, fed what Asterisk never sends: stdin
closed at once, binary garbage, an environment without its blank line, a megabyte line,
and arguments that name no script or no number. Each time: one line on stderr that says
what and where (with at most a short escaped excerpt of the input), a non-zero exit
status, no traceback, and a database with no call left open, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from agi_fake import FakeAsterisk, close_pipes, environment
from start_date import CLOCK_ENV, OPEN

from integration.support import LI_WEI, ROOT, Db
from ivr.app.bootstrap import Components
from ivr.phone.asterisk.agi_call import run_call
from ivr.phone.asterisk.agi_line import AgiLine
from ivr.phone.asterisk.agi_protocol import MAX_ENVIRONMENT_BYTES, MAX_LINE_BYTES

SCRIPT = ROOT / "agi_scripts" / "hotline.agi"
#: In-process drivers: SQLite only (the script's own tests run on both backends).
sqlite = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
NUMBER, PIN, _ = LI_WEI
#: Bytes of the input an error line may show (an escaped excerpt of about 60 characters).
EXCERPT = 120


def run_script(url: str, stdin: bytes, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IVR_")},
        "IVR_DATABASE_URL": url,  # IVR_FLOW unset: the project's callflows.yaml
        "IVR_FASTAGI_PORT": "off",  # in-process, whatever listens on 4573
        CLOCK_ENV: OPEN,
    }
    return subprocess.run(
        [sys.executable, str(SCRIPT)],
        input=stdin,
        capture_output=True,
        cwd=cwd,  # Asterisk's working directory is not the project
        env=env,
        timeout=60,
    )


def env_block(**values: str) -> bytes:
    """A captured environment without its arguments, with ``values`` added or replaced."""
    pairs = dict(line.split(": ", 1) for line in environment())
    pairs = {k: v for k, v in pairs.items() if not k.startswith("agi_arg_")} | values
    return ("".join(f"{key}: {value}\n" for key, value in pairs.items()) + "\n").encode()


def assert_one_line_error(done: subprocess.CompletedProcess[bytes], *words: str) -> str:
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode != 0, err
    assert "Traceback" not in err, err[:2000]
    assert err.endswith("\n") and err.count("\n") == 1, err[:2000]
    assert err.startswith("hotline.agi ERROR: "), err
    assert len(err) < 400, err[:2000]
    for word in words:
        assert word in err, err
    return err


def assert_nothing_changed(db: Db, before: str) -> None:
    assert db.count("call_records") == 0
    assert db.dump() == before


GARBAGE = bytes((i * 151 + 7) % 256 for i in range(4096)).replace(b"\n", b"")


@pytest.mark.parametrize(
    ("stdin", "words"),
    [
        pytest.param(b"", ("stdin", "ended before its blank line"), id="closed-at-once"),
        pytest.param(GARBAGE + b"\n\n", ("stdin line 1", "not an AGI environment"), id="binary"),
        pytest.param(
            b"agi_request: hotline.agi\nagi_uniqueid: 1\n",
            ("stdin line 3", "ended before its blank line"),
            id="no-blank-line",
        ),
        pytest.param(
            b"agi_request: " + b"x" * 1_000_000 + b"\n\n",
            ("stdin line 1", f"{MAX_LINE_BYTES} bytes"),
            id="megabyte-line",
        ),
        pytest.param(
            b"".join(b"agi_x%d: %s\n" % (n, b"y" * 4000) for n in range(40)) + b"\n",
            ("stdin line", f"{MAX_ENVIRONMENT_BYTES} bytes"),
            id="environment-too-big",
        ),
    ],
)
def test_hotline_agi_refuses_input_that_is_not_an_agi_environment(
    seeded_url: str, db: Db, tmp_path: Path, stdin: bytes, words: tuple[str, ...]
) -> None:
    before = db.dump()

    done = run_script(seeded_url, stdin, tmp_path)

    err = assert_one_line_error(done, *words)
    assert "x" * EXCERPT not in err and "y" * EXCERPT not in err
    assert done.stdout == b""  # nothing was said to Asterisk
    assert_nothing_changed(db, before)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        pytest.param(("callback", "id=abc"), ("callback", "id=<number>", "'abc'"), id="id-abc"),
        pytest.param(
            ("callback", "id=99999999999999999999999"),
            ("callback", "id=<number>", "out of range"),
            id="id-out-of-range",
        ),
        pytest.param(("callback", "id=٣"), ("callback", "id=<number>"), id="id-arabic-digit"),
        pytest.param(("answered",), ("answered", "entry=<number>"), id="no-entry"),
        pytest.param(("nosuch", "id=1"), ("no script 'nosuch'", "callback"), id="unknown"),
        pytest.param(("callback", "id=424242"), ("callback 424242", "no such"), id="no-such-id"),
    ],
)
def test_hotline_agi_refuses_bad_arguments_before_touching_the_call(
    seeded_url: str, db: Db, tmp_path: Path, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    before = db.dump()
    numbered = {f"agi_arg_{n}": value for n, value in enumerate(args, start=1)}

    done = run_script(seeded_url, env_block(**numbered), tmp_path)

    assert_one_line_error(done, "arguments", *words)
    assert_nothing_changed(db, before)


def test_hotline_agi_closes_the_call_record_when_asterisk_sends_garbage_mid_call(
    seeded_url: str, db: Db, tmp_path: Path
) -> None:
    call_id = "garbage.1"
    stdin = (
        env_block(agi_uniqueid=call_id)
        + b"200 result=0\n"  # ANSWER
        + b"200 result="
        + b"9" * 1_000_000
        + b"\n"  # STREAM FILE's reply, a megabyte long
        + b"200 result=0\n" * 10
    )

    done = run_script(seeded_url, stdin, tmp_path)

    assert_one_line_error(done, f"call {call_id}", "choose_language", f"{MAX_LINE_BYTES} bytes")
    assert "9" * EXCERPT not in done.stderr.decode()
    record = db.one("call_records", call_id=call_id)
    assert (record["outcome"], record["last_node"]) == ("abandoned", "choose_language")
    assert record["ended_at"] is not None


class BrokenWriter:
    """Asterisk's side of the line, with our side failing on its ``fail_at``-th command
    for a reason that is neither a hang-up nor a protocol error (a bug, say)."""

    def __init__(self, fake: FakeAsterisk, fail_at: int) -> None:
        self.fake = fake
        self.left = fail_at

    def write(self, text: str) -> int:
        self.left -= 1
        if self.left == 0:
            raise RuntimeError("something unforeseen")
        return self.fake.write(text)

    def flush(self) -> None:
        self.fake.flush()


@sqlite
def test_a_call_that_fails_mid_way_for_an_unforeseen_reason_is_still_recorded(
    hotline: Components, db: Db
) -> None:
    fake = FakeAsterisk("1 1", env=environment(agi_uniqueid="broken.1"))
    line = AgiLine(fake, BrokenWriter(fake, fail_at=4))

    with pytest.raises(RuntimeError):
        run_call(line, hotline, "agi")

    record = db.one("call_records", call_id="broken.1")
    assert record["outcome"] == "abandoned" and record["ended_at"] is not None


def test_a_failing_use_case_is_logged_on_one_line_without_a_traceback_or_the_pin(
    seeded_url: str, db: Db, tmp_path: Path
) -> None:
    db.execute("DROP TABLE verification_attempts")  # verifying the caller now fails
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IVR_")},
        "IVR_DATABASE_URL": seeded_url,
        "IVR_FASTAGI_PORT": "off",
        CLOCK_ENV: OPEN,
    }
    plain = [line for line in environment(agi_uniqueid="usecase.1") if "agi_arg_" not in line]
    fake = FakeAsterisk(f"1 1 {NUMBER}# {PIN} h", env=plain)
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    try:
        fake.talk_to(process)
        process.wait(timeout=60)
        err = process.stderr.read() if process.stderr else ""
    finally:
        process.kill()
        close_pipes(process)

    assert "Traceback" not in err and PIN not in err, err
    failed = [line for line in err.splitlines() if "use case verify" in line]
    assert len(failed) == 1 and "verification_attempts" in failed[0], err
    record = db.one("call_records", call_id="usecase.1")
    assert record["outcome"] is not None and record["ended_at"] is not None
