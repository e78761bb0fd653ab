"""A real ``ivr fastagi`` process with ``IVR_METRICS_PORT`` and ``IVR_LOG_FORMAT=json``
(issue 13): its ``/metrics`` port scraped and parsed with the prometheus client's parser
while a call is in progress and after it; its log lines on stderr, each a JSON object,
those of the call naming it, and none holding the PIN the caller keyed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from start_date import CLOCK_ENV, OPEN_UTC

from integration.app.test_secret_logs import scrubbed
from integration.fastagi_calls import Caller, wait_for
from integration.phone.asterisk.test_agi_driver import RESET
from integration.support import LI_WEI, ROOT

sqlite = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
NUMBER, PIN, PHONE = LI_WEI
CALL = "1700000123.45"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Process:
    process: subprocess.Popen[str]
    fastagi: int
    metrics: int
    log: Path  # its stderr (a file: a full pipe would stall it)

    def scrape(self) -> Samples:
        url = f"http://127.0.0.1:{self.metrics}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            assert response.status == 200
            text = response.read().decode()
        samples: Samples = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
        return samples

    def stop(self) -> str:
        """SIGTERM; what it wrote on stderr."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.log.read_text(encoding="utf-8")


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def fastagi(seeded_url: str, tmp_path: Path) -> Iterator[Process]:
    """``ivr fastagi`` on the test's database, metrics on a port of their own."""
    port, metrics = free_port(), free_port()
    env = {
        **os.environ,
        "IVR_DATABASE_URL": seeded_url,
        "IVR_FLOW": str(ROOT / "callflows.yaml"),
        "IVR_SECRET_KEY": "fastagi-metrics",
        "IVR_METRICS_PORT": str(metrics),
        "IVR_LOG_FORMAT": "json",
        "IVR_LOG_LEVEL": "DEBUG",
        CLOCK_ENV: OPEN_UTC.isoformat(),
    }
    log = tmp_path / "fastagi.log"
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "ivr.app.cli", "fastagi", "--listen", f"127.0.0.1:{port}"],
            env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True,
        )  # fmt: skip
    running = Process(process, port, metrics, log)
    deadline = time.monotonic() + 30
    while not (listening(port) and listening(metrics)):
        assert process.poll() is None, log.read_text(encoding="utf-8")[-3000:]
        assert time.monotonic() < deadline, "ivr fastagi did not start"
        time.sleep(0.1)
    yield running
    if process.poll() is None:
        running.stop()


@sqlite
def test_the_fastagi_process_serves_metrics_and_json_logs_naming_the_call(
    fastagi: Process,
) -> None:
    before = fastagi.scrape()
    assert value(before, "ivr_database_up") == 1
    assert value(before, "ivr_calls_in_progress", channel="fastagi") == 0

    caller = Caller(fastagi.fastagi, RESET, CALL, stall_at="STREAM FILE").start()
    try:
        wait_for(caller.stalled.is_set, "the call to reach its first prompt")
        during = fastagi.scrape()
    finally:
        caller.release.set()
        caller.join()
    assert value(during, "ivr_calls_in_progress", channel="fastagi") == 1
    assert value(during, "ivr_agi_command_seconds_count", command="ANSWER") == 1
    wait_for(
        lambda: value(fastagi.scrape(), "ivr_calls_in_progress", channel="fastagi") == 0,
        "the call to end",
    )
    after = fastagi.scrape()
    assert value(after, "ivr_agi_command_seconds_count", command="STREAM FILE") >= 3
    assert not any(
        sample[0] == "ivr_agi_command_seconds_count" and PIN in str(sample[1]) for sample in after
    )

    errors = fastagi.stop()
    lines = [json.loads(line) for line in errors.splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(e) for e in lines)
    of_the_call = [entry for entry in lines if entry.get("call_id") == CALL]
    assert any(e["logger"] == "ivr.phone.asterisk.agi_line" for e in of_the_call)
    assert any(
        "verification" in e["message"].lower() or "AGI <<" in e["message"] for e in of_the_call
    )
    assert PIN not in scrubbed(errors)


@sqlite
def test_an_unusable_metrics_port_stops_ivr_fastagi_with_a_clear_message(
    seeded_url: str,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            **os.environ,
            "IVR_DATABASE_URL": seeded_url,
            "IVR_FLOW": str(ROOT / "callflows.yaml"),
            "IVR_METRICS_PORT": str(port),
        }
        listen = f"127.0.0.1:{free_port()}"
        done = subprocess.run(
            [sys.executable, "-m", "ivr.app.cli", "fastagi", "--listen", listen],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    assert done.returncode == 1
    assert f"IVR_METRICS_PORT: cannot listen on 127.0.0.1:{port}" in done.stderr
