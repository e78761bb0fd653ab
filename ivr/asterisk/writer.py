"""Writes the hotline's Asterisk files for a flow: ``ivr asterisk-config --out DIR``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ivr.asterisk import config
from ivr.asterisk.tone import hold_music
from ivr.bootstrap import load_hotline
from ivr.flow.model import Flow

HOLD_MUSIC = "hold.wav"


def options_for(
    flow: Flow,
    agi: str,
    per_call_script: bool,
    sip_port: int,
    agents: Mapping[str, str],
    moh_directory: Path,
) -> config.Options:
    """The generator's options: the flow gives the languages and the queues."""
    return config.Options(
        agi=agi,
        per_call_script=per_call_script,
        sip_port=sip_port,
        languages=flow.languages,
        queues=[config.HotlineQueue(q.name, q.priority) for q in flow.queues.values()],
        agents=[config.Agent(name, password) for name, password in agents.items()],
        moh_directory=str(moh_directory.resolve()),
    )


def write_files(out: Path, files: Mapping[str, str]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = out / name
        path.write_text(text)
        written.append(path)
    return written


def write_hold_music(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / HOLD_MUSIC
    music = hold_music()
    if not path.is_file() or path.read_bytes() != music:
        path.write_bytes(music)
    return path


def write_hotline_config(
    out: Path,
    flow_path: Path,
    agi: str,
    per_call_script: bool,
    sip_port: int,
    agents: Mapping[str, str],
) -> list[Path]:
    """The four ``.conf`` files and ``moh/hold.wav`` under ``out``; the paths written."""
    flow = load_hotline(flow_path)
    moh = out / "moh"
    options = options_for(flow, agi, per_call_script, sip_port, agents, moh)
    written = write_files(out, config.hotline_files(options))
    return [*written, write_hold_music(moh)]
