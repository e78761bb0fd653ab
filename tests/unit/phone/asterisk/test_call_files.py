"""Callback call files (``ivr.phone.asterisk.call_files``): their text, and how they are spooled."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.phone.asterisk import call_files as originate
from ivr.phone.asterisk.call_files import CallbackSettings, OriginateError


def test_a_call_file_dials_the_number_and_runs_the_callback_context() -> None:
    text = originate.call_file(CallbackSettings(), 7, "+8613800138001")
    lines = dict(line.split(": ", 1) for line in text.splitlines())
    assert lines["Channel"] == "PJSIP/+8613800138001@hotline-callbacks"
    assert (lines["Context"], lines["Extension"], lines["Priority"]) == (
        "hotline-callback",
        "s",
        "1",
    )
    assert lines["Setvar"] == "IVR_CALLBACK=7"
    assert lines["MaxRetries"] == "0"  # the queue retries, not Asterisk


@pytest.mark.parametrize("number", ["", "abc", "555\nChannel: Local/x", "12", "5551234 "])
def test_only_a_number_is_dialled(number: str) -> None:
    with pytest.raises(OriginateError):
        originate.call_file(CallbackSettings(), 7, number)


def test_settings_from_the_environment() -> None:
    env = {"IVR_ASTERISK_SPOOL": "/tmp/out", "IVR_CALLBACK_DIAL": "PJSIP/trunk/sip:{number}@x"}
    settings = CallbackSettings.from_env(env)
    assert settings.spool == Path("/tmp/out")
    assert "Channel: PJSIP/trunk/sip:5551234@x\n" in originate.call_file(settings, 1, "5551234")


def test_a_call_file_appears_whole_once_per_attempt(tmp_path: Path) -> None:
    spool = tmp_path / "outgoing"
    spool.mkdir()
    settings = CallbackSettings(spool=spool)
    path = originate.originate(settings, 7, 1, "5551234")
    assert path == spool / "ivr-callback-7-1.call"
    assert path.read_text() == originate.call_file(settings, 7, "5551234")
    with pytest.raises(OriginateError, match="already spooled"):
        originate.originate(settings, 7, 1, "5551234")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["ivr-callback-7-1.call", "outgoing"]


def test_a_new_attempt_removes_the_earlier_attempts_still_spooled(tmp_path: Path) -> None:
    """An attempt counted failed while Asterisk was down must not ring the customer once
    Asterisk is back and reads its spool: the next attempt's file replaces it."""
    spool = tmp_path / "outgoing"
    spool.mkdir()
    settings = CallbackSettings(spool=spool)
    originate.originate(settings, 7, 1, "5551234")
    originate.originate(settings, 8, 1, "5559876")  # another callback's file stays
    originate.originate(settings, 7, 2, "5551234")
    assert sorted(p.name for p in spool.iterdir()) == [
        "ivr-callback-7-2.call",
        "ivr-callback-8-1.call",
    ]


def test_no_spool_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OriginateError, match="IVR_ASTERISK_SPOOL"):
        originate.originate(CallbackSettings(spool=tmp_path / "missing"), 7, 1, "5551234")
