"""The Asterisk pieces of live agents and callbacks in the generated configuration."""

from __future__ import annotations

import io
import wave
from pathlib import Path

from ivr.audio.tone import hold_segments
from ivr.phone.asterisk import config, dialplan, pjsip_queues, writer

FASTAGI = config.Options(
    agents=[
        config.Agent("agent-bob", "s3cret"),
        config.Agent("agent-alice", "pw", "sip:agent-alice@127.0.0.1:5071"),
    ],
    callback_contact="sip:127.0.0.1:5090",
)
PER_CALL = config.Options(agi="/opt/ivr/agi_scripts/hotline.agi", per_call_script=True)


def context(text: str, name: str) -> list[str]:
    lines = text.split(f"[{name}]\n", 1)[1].split("\n\n", 1)[0]
    return lines.splitlines()


def test_the_answered_gosub_tells_the_controller_then_returns() -> None:
    lines = context(dialplan.extensions_conf(FASTAGI), "hotline-answered")
    assert lines[1] == " same => n,AGI(agi://127.0.0.1:4573/answered?entry=${ARG1})"
    assert lines[-1] == " same => n,Return()"


def test_callback_call_files_run_the_callback_script_or_its_failure() -> None:
    lines = context(dialplan.extensions_conf(FASTAGI), "hotline-callback")
    assert " same => n,AGI(agi://127.0.0.1:4573/callback?id=${IVR_CALLBACK})" in lines
    assert " same => n,Playback(en/system_error)" in lines  # controller down: not silence
    assert lines[-2] == (
        " same => n,AGI(agi://127.0.0.1:4573/callback-failed?id=${IVR_CALLBACK}&reason=${REASON})"
    )
    assert lines[-3].startswith("exten => failed,1,")


def test_the_per_call_script_takes_the_script_name_as_its_first_argument() -> None:
    text = dialplan.extensions_conf(PER_CALL)
    assert " same => n,AGI(/opt/ivr/agi_scripts/hotline.agi)" in text
    assert " same => n,AGI(/opt/ivr/agi_scripts/hotline.agi,answered,entry=${ARG1})" in text
    assert " same => n,AGI(/opt/ivr/agi_scripts/hotline.agi,callback,id=${IVR_CALLBACK})" in text


def test_fallback_joins_the_safe_route_after_its_apology() -> None:
    lines = dialplan.extensions_conf(FASTAGI).splitlines()
    assert ' same => n,GotoIf($["${IVR_OUTCOME}" = "fallback"]?fallback)' in lines
    fallback = next(i for i, line in enumerate(lines) if "n(fallback)" in line)
    apology = next(i for i, line in enumerate(lines) if "Playback(${IVR_APOLOGY})" in line)
    assert apology < fallback
    assert lines[fallback + 1] == " same => n,Gosub(hotline-queue,s,1(general))"
    assert lines[fallback + 2] == " same => n,Queue(${IVR_ASTERISK_QUEUE})"


def test_agent_phones_and_the_callback_trunk() -> None:
    text = pjsip_queues.pjsip_conf(FASTAGI)
    sections = text.split("\n[")
    bob = [s for s in sections if s.startswith("agent-bob]\ntype = aor")]
    assert bob and "max_contacts = 1" in bob[0]  # registers
    alice = [s for s in sections if s.startswith("agent-alice]\ntype = aor")]
    assert alice and "contact = sip:agent-alice@127.0.0.1:5071" in alice[0]  # fixed
    trunk = [s for s in sections if s.startswith("hotline-callbacks]\ntype = aor")]
    assert trunk and "contact = sip:127.0.0.1:5090" in trunk[0]
    assert "direct_media = no" in text


def test_hold_segments_are_short_and_written_next_to_the_queue_music(tmp_path: Path) -> None:
    for name, music in hold_segments().items():
        with wave.open(io.BytesIO(music)) as audio:
            assert audio.getframerate() == 8000 and audio.getnchannels() == 1
            assert 2.5 <= audio.getnframes() / 8000 <= 3.5, name
    writer.write_hold_music(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hold-1.wav", "hold-2.wav", "hold.wav"]
