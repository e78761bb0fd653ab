"""``IVR_LOG_FORMAT`` (issue 13): text as before, or one JSON object a line naming the
call being handled; an unknown format (or metrics port) refused with a clear message."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from ivr.app import logs
from ivr.app.cli import main
from ivr.app.config import Settings
from ivr.errors import IvrError
from ivr.services.call_context import current, handling


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, io.StringIO, io.StringIO]]:
    """A logger writing to a text handler and a JSON handler."""
    text, lines = io.StringIO(), io.StringIO()
    log = logging.getLogger("ivr.tests.logs")
    handlers = [logs.handler("text", text), logs.handler("json", lines)]
    for handler in handlers:
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    yield log, text, lines
    for handler in handlers:
        log.removeHandler(handler)


def test_json_lines_carry_the_call_being_handled_and_text_stays_as_it_was(
    logger: tuple[logging.Logger, io.StringIO, io.StringIO],
) -> None:
    log, text, lines = logger
    log.info("before %s", "the call")
    with handling("1700000000.1"):
        log.warning("during the call: %d keys", 4)
        with handling("CA" + "1" * 32):  # a webhook inside a test's call: its own id
            log.info("nested")
        log.info("the call again")
    log.info("after")

    entries = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert [(e["message"], e.get("call_id")) for e in entries] == [
        ("before the call", None),
        ("during the call: 4 keys", "1700000000.1"),
        ("nested", "CA" + "1" * 32),
        ("the call again", "1700000000.1"),
        ("after", None),
    ]
    assert entries[1]["level"] == "WARNING" and entries[1]["logger"] == "ivr.tests.logs"
    assert entries[1]["time"].endswith("+00:00")
    assert text.getvalue().splitlines()[1] == "WARNING ivr.tests.logs: during the call: 4 keys"
    assert current() is None


def test_a_json_line_holds_its_traceback_and_text_in_any_script(
    logger: tuple[logging.Logger, io.StringIO, io.StringIO],
) -> None:
    log, _, lines = logger
    try:
        raise ValueError("broken")
    except ValueError:
        log.exception("失败 on line\nnext")

    [entry] = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert entry["message"] == "失败 on line\nnext"  # one line of JSON all the same
    assert "ValueError: broken" in entry["exception"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("IVR_LOG_FORMAT", "xml", "IVR_LOG_FORMAT must be text or json, not 'xml'"),
        ("IVR_METRICS_PORT", "http", "IVR_METRICS_PORT must be a port number (1 to 65535)"),
        ("IVR_METRICS_PORT", "70000", "IVR_METRICS_PORT must be a port number (1 to 65535)"),
    ],
)
def test_an_unknown_log_format_or_metrics_port_is_refused(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(IvrError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env({name: value})


def test_the_settings_default_to_text_logs_and_no_metrics_port() -> None:
    settings = Settings.from_env({"IVR_LOG_FORMAT": " JSON ", "IVR_METRICS_PORT": "9464"})
    assert (settings.log_format, settings.metrics_port) == ("json", 9464)
    assert settings.metrics_host == "127.0.0.1"
    default = Settings.from_env({})
    assert (default.log_format, default.metrics_port) == ("text", None)


def test_ivr_says_what_is_wrong_with_the_log_format(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("IVR_LOG_FORMAT", "yaml")

    assert main(["validate"]) == 2
    assert "IVR_LOG_FORMAT must be text or json, not 'yaml'" in capsys.readouterr().err
