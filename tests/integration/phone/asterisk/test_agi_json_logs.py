"""The per-call AGI script with ``IVR_LOG_FORMAT=json`` (issue 13): every line on stderr a
JSON object, those of the call naming it, none holding the PIN keyed."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

import pytest
from agi_fake import FakeAsterisk, close_pipes, environment

from integration.app.test_secret_logs import scrubbed
from integration.phone.asterisk.test_agi_driver import SCRIPT
from integration.support import LI_WEI, Db, StoppedClock, clock_environment

sqlite = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
NUMBER, PIN, PHONE = LI_WEI
CALL = "process.json"


@sqlite
def test_hotline_agi_writes_json_lines_naming_its_call_without_the_pin(
    seeded_url: str, db: Db, tmp_path: Path, clock: StoppedClock
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IVR_")},
        "IVR_DATABASE_URL": seeded_url,
        "IVR_FASTAGI_PORT": "off",  # in-process, whatever listens on 4573
        "IVR_LOG_FORMAT": "json",
        "IVR_LOG_LEVEL": "DEBUG",
        **clock_environment(clock),
    }
    captured = environment(agi_uniqueid=CALL)
    plain = [line for line in captured if not line.startswith("agi_arg_")]
    fake = FakeAsterisk(f"1 1 {NUMBER}# {PIN}", hangup="eof", env=plain)
    log = tmp_path / "stderr.log"  # a file: a full pipe would stall the script
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [str(SCRIPT)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
            text=True, cwd=tmp_path, env=env,
        )  # fmt: skip
        watchdog = threading.Timer(60, process.kill)
        watchdog.start()
        try:
            fake.talk_to(process)
            assert process.wait(timeout=60) == 0
        finally:
            watchdog.cancel()
            process.kill()
            close_pipes(process)
    errors = log.read_text(encoding="utf-8")

    assert db.count("verification_attempts") == 1  # the PIN was keyed and checked
    lines = [json.loads(line) for line in errors.splitlines() if line.strip()]
    agi = [entry for entry in lines if entry["logger"] == "ivr.phone.asterisk.agi_line"]
    assert agi and all(entry.get("call_id") == CALL for entry in agi)
    assert PIN not in scrubbed(errors)
