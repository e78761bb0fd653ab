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
from agi_fake import environment

from ivr.channels.agi_protocol import MAX_ENVIRONMENT_BYTES, MAX_LINE_BYTES

from .support import ROOT, Db

SCRIPT = ROOT / "agi_scripts" / "hotline.agi"
#: Bytes of the input an error line may show (an escaped excerpt of about 60 characters).
EXCERPT = 120


def run_script(url: str, stdin: bytes, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IVR_")},
        "IVR_DATABASE_URL": url,  # IVR_FLOW unset: the project's callflows.yaml
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
