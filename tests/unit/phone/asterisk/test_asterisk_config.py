"""The generated Asterisk configuration, the mirror found in apt sources, the private
Asterisk's layout and the provisioning's bookkeeping: all without running Asterisk."""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import wave
from pathlib import Path

import pytest

from ivr.app.asterisk_cli import register
from ivr.app.config import Settings
from ivr.audio.tone import hold_music
from ivr.phone.asterisk import config, dialplan, layout, pjsip_queues
from ivr.phone.asterisk.debian_packages import PACKAGES, Apt, ProvisionError
from ivr.phone.asterisk.mirror import debian_mirror, system_sources
from ivr.phone.asterisk.provision import Installation, _from_stamp, default_cache

ROOT = Path(__file__).resolve().parents[4]
QUEUES = [config.HotlineQueue(name, p) for name, p in [("security", 10), ("general", 1)]]
OPTIONS = config.Options(
    agi="127.0.0.1:4573",
    sip_port=5099,
    languages=("en", "zh"),
    queues=QUEUES,
    agents=[config.Agent("agent1", "s3cret")],
    moh_directory="/srv/moh",
)


def priorities(dialplan: str) -> list[str]:
    return [line for line in dialplan.splitlines() if re.match(r"(exten =>| same =>)", line)]


# --- extensions.conf -------------------------------------------------------------------------


def test_the_hotline_answers_then_runs_fastagi() -> None:
    steps = priorities(dialplan.extensions_conf(OPTIONS))
    assert steps[0].startswith("exten => 100,1,")
    assert " same => n,Answer()" in steps
    assert " same => n,AGI(agi://127.0.0.1:4573/hotline)" in steps


def test_a_per_call_script_is_run_by_path() -> None:
    options = config.Options(agi="/opt/ivr/agi_scripts/hotline.agi", per_call_script=True)
    assert " same => n,AGI(/opt/ivr/agi_scripts/hotline.agi)" in dialplan.extensions_conf(options)


def test_every_way_out_of_the_agi_is_handled() -> None:
    text = dialplan.extensions_conf(OPTIONS)
    assert '$["${AGISTATUS}" != "SUCCESS"]?safe' in text  # FAILURE, NOTFOUND: controller down
    assert '$["${IVR_OUTCOME}" = ""]?safe' in text  # the script returned without a decision
    assert '$["${IVR_OUTCOME}" = "queued"]?queued' in text
    assert '$["${IVR_OUTCOME}" = "transferred"]?transferred' in text
    assert " same => n(done),Hangup()" in text


def test_only_the_flows_queues_are_joined_under_their_asterisk_names() -> None:
    text = dialplan.extensions_conf(OPTIONS)
    assert 'REGEX("^(security|general)$" ${IVR_QUEUE})' in text
    assert " same => n,Gosub(hotline-queue,s,1(${IVR_QUEUE}))" in text
    assert text.count(" same => n,Queue(${IVR_ASTERISK_QUEUE})") == 2  # queued, safe route


def test_the_fallback_queue_is_the_callers_languages_else_the_queues_else_general() -> None:
    steps = priorities(dialplan.extensions_conf(OPTIONS))
    start = steps.index("exten => s,1,Set(LOCAL(queue)=${ARG1})")
    pick = "\n".join(steps[start : start + 11])
    assert '${IF($["${IVR_LANGUAGE}" != ""]?${IVR_LANGUAGE}:${CHANNEL(language)})}' in pick
    assert "${QUEUE_EXISTS(hotline-${queue}-${lang})}]?Set(IVR_ASTERISK_QUEUE=" in pick
    assert "${QUEUE_MEMBER(${IVR_ASTERISK_QUEUE},count)} > 0]?picked" in pick
    assert "Set(LOCAL(queue)=general)" in pick
    assert pick.endswith(" same => n,Return()")


def test_the_safe_route_apologises_in_the_callers_language_then_queues() -> None:
    steps = priorities(dialplan.extensions_conf(OPTIONS))
    safe = next(i for i, step in enumerate(steps) if "n(safe)," in step)
    route = "\n".join(steps[safe:])
    assert "Set(IVR_APOLOGY=en/system_error)" in route
    assert '$["${IVR_LANGUAGE}" = "zh"]?Set(IVR_APOLOGY=zh/system_error)' in route
    assert "Playback(${IVR_APOLOGY})" in route
    assert "?Playback(en/system_error)" in route  # the fallback when zh audio is missing
    assert route.index("Playback") < route.index("Gosub(hotline-queue,s,1(general))")
    assert "Set(QUEUE_PRIO=1)" in route


def test_priority_labels_are_defined_once_and_every_goto_has_its_label() -> None:
    text = dialplan.extensions_conf(OPTIONS)
    labels = re.findall(r"same => n\((\w+)\)", text)
    assert len(labels) == len(set(labels))
    targets = set(re.findall(r"\?(\w+)\)", text)) | set(re.findall(r"Goto\((\w+)\)", text))
    assert targets <= set(labels)


# --- pjsip.conf, queues.conf, musiconhold.conf ------------------------------------------------


def test_sip_listens_on_loopback_only_and_callers_from_it_reach_the_hotline() -> None:
    text = pjsip_queues.pjsip_conf(OPTIONS)
    assert "[caller]\ntype = endpoint\ncontext = hotline\n" in text
    assert "type = identify\nendpoint = caller\nmatch = 127.0.0.1\n" in text
    assert "dtmf_mode = rfc4733" in text
    assert "media_address = 127.0.0.1\nbind_rtp_to_media_address = yes" in text
    assert "s3cret" not in text  # only its digest: md5("agent1:hotline:s3cret")
    assert "auth_type = digest\nusername = agent1\nrealm = hotline\n" in text
    assert "password_digest = md5:" + hashlib.md5(b"agent1:hotline:s3cret").hexdigest() in text
    assert "[transport-udp]" not in text  # pjsip-transport.conf: only for a fresh Asterisk


def test_the_transport_is_a_file_of_its_own_on_loopback() -> None:
    text = pjsip_queues.pjsip_transport_conf(OPTIONS)
    assert "endpoint_identifier_order = username,ip,anonymous" in text
    assert "bind = 127.0.0.1:5099" in text


def test_queues_are_prefixed_because_general_is_reserved() -> None:
    text = pjsip_queues.queues_conf(OPTIONS)
    sections = re.findall(r"^\[([\w-]+)\]", text, re.MULTILINE)
    assert sections == ["hotline-security", "hotline-general"]  # [general]: Asterisk's own
    assert "weight = 10" in text
    assert "musicclass = hotline" in text
    assert "member => PJSIP/agent1,0,agent1,PJSIP/agent1" in text


def test_hold_music_plays_files_from_the_folder() -> None:
    text = pjsip_queues.musiconhold_conf(OPTIONS)
    assert "[hotline]\nmode = files\ndirectory = /srv/moh\n" in text


def test_hold_music_is_8khz_mono_16_bit() -> None:
    with wave.open(io.BytesIO(hold_music())) as audio:
        assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (8000, 1, 2)
        assert audio.getnframes() / 8000 > 5


def test_asterisk_config_writes_the_files_for_the_real_flow(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["asterisk-config", "--out", str(tmp_path / "out"), "--sip-port", "5070", "--demo-agents"]
    )
    settings = Settings(ROOT / "callflows.yaml", "sqlite://", "WARNING")

    assert args.run(args, settings) == 0

    out = tmp_path / "out"
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "agent-secrets.json",
        "extensions.conf",
        "moh",
        "musiconhold.conf",
        "pjsip-transport.conf",
        "pjsip.conf",
        "queues.conf",
    ]
    assert (out / "moh" / "hold.wav").stat().st_size > 10_000
    queues = (out / "queues.conf").read_text()
    for name in ("general", "payments", "closure", "security"):
        assert f"[hotline-{name}]" in queues
    assert f"directory = {(out / 'moh').resolve()}" in (out / "musiconhold.conf").read_text()


# --- the Debian mirror ------------------------------------------------------------------------


def test_the_mirror_comes_from_deb822_sources_skipping_security() -> None:
    sources = (
        "Types: deb\n# a comment\nURIs: http://mirror.example/debian-security\n"
        "Suites: bookworm-security\nComponents: main\n\n"
        "Types: deb deb-src\nURIs: http://mirror.example/debian/\nSuites: bookworm\n"
    )
    assert debian_mirror([("debian.sources", sources)]) == "http://mirror.example/debian"


def test_the_mirror_comes_from_one_line_sources() -> None:
    sources = (
        "# deb http://old.example/debian bookworm main\n"
        "deb-src http://src.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] https://mirror.example/debian bookworm main\n"
    )
    assert debian_mirror([("sources.list", sources)]) == "https://mirror.example/debian"


def test_no_mirror_when_sources_are_disabled_or_not_debian() -> None:
    disabled = "Enabled: no\nTypes: deb\nURIs: http://mirror.example/debian\nSuites: sid\n"
    other = "deb https://packages.example/apt stable main\n"
    assert debian_mirror([("a.sources", disabled), ("b.list", other)]) is None


def test_system_sources_reads_list_and_sources_files_only(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "a.sources").write_text("x")
    (tmp_path / "sources.list.d" / "b.list.disabled").write_text("y")
    assert system_sources(tmp_path) == [("a.sources", "x")]


# --- the private Asterisk's files -------------------------------------------------------------


def test_every_asterisk_directory_is_under_the_run_folder(tmp_path: Path) -> None:
    run = layout.RunFolder(tmp_path / "run")
    text = layout.asterisk_conf(run, Path("/cache/root/modules"))
    folders = dict(re.findall(r"^(\w+) => (.+)$", text, re.MULTILINE))
    assert folders.pop("astmoddir") == "/cache/root/modules"
    assert all(value.startswith(str(tmp_path / "run")) for value in folders.values())
    assert folders["astdatadir"] == str(tmp_path / "run" / "data")


def test_modules_autoload_but_network_listeners_do_not() -> None:
    text = layout.modules_conf()
    assert "autoload = yes" in text
    assert "noload => chan_iax2.so" in text
    assert "noload => pbx_dundi.so" in text


def test_sounds_find_prompts_by_language_next_to_debians_english(tmp_path: Path) -> None:
    data = tmp_path / "share"
    (data / "sounds" / "en_US_f_Allison" / "digits").mkdir(parents=True)
    (data / "documentation").mkdir()
    prompts = tmp_path / "prompts"
    (prompts / "en").mkdir(parents=True)
    run = layout.RunFolder(tmp_path / "run")
    run.create()

    layout.link_sounds(run, data, prompts, ("en", "zh"))
    layout.link_sounds(run, data, prompts, ("en", "zh"))  # again: nothing changes

    english = run / "data" / "sounds" / "en"
    assert (english / "digits").resolve() == data / "sounds" / "en_US_f_Allison" / "digits"
    assert (english / "en").resolve() == prompts / "en"
    assert os.readlink(english / "zh") == str(prompts / "zh")
    assert (run / "data" / "documentation").resolve() == data / "documentation"


# --- provisioning's bookkeeping ---------------------------------------------------------------


def test_the_cache_folder_follows_the_environment() -> None:
    assert default_cache({"IVR_ASTERISK_CACHE": "/c"}) == Path("/c")
    assert default_cache({"XDG_CACHE_HOME": "/x", "HOME": "/h"}) == Path("/x/ivr/asterisk")


def test_a_stamp_names_every_package_or_is_ignored(tmp_path: Path) -> None:
    assert _from_stamp(tmp_path, "x86_64-linux-gnu", "ld.so") is None
    (tmp_path / "stamp.json").write_text(json.dumps({"packages": {"asterisk": "22"}}))
    assert _from_stamp(tmp_path, "x86_64-linux-gnu", "ld.so") is None
    versions = dict.fromkeys(PACKAGES, "1")
    (tmp_path / "stamp.json").write_text(json.dumps({"packages": versions}))
    found = _from_stamp(tmp_path, "x86_64-linux-gnu", "ld.so")
    assert isinstance(found, Installation)
    assert found.command("-V")[:3] == [
        str(tmp_path / "root/usr/lib/x86_64-linux-gnu/ld.so"),
        "--library-path",
        str(tmp_path / "root/usr/lib/x86_64-linux-gnu"),
    ]


def test_a_failing_apt_update_says_what_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "apt-get"
    fake.write_text(
        "#!/bin/sh\necho 'E: Failed to fetch http://m/debian/dists/sid' >&2\nexit 100\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    apt = Apt(tmp_path / "apt", "http://m/debian")

    with pytest.raises(ProvisionError, match=r"apt-get update of Debian sid from http://m/debian"):
        apt.update()
    assert (tmp_path / "apt" / "sources.list").read_text() == "deb http://m/debian sid main\n"
    with pytest.raises(ProvisionError, match=r"download .* failed for asterisk, libc6: E: Failed"):
        apt.download(["asterisk", "libc6"], tmp_path / "debs")
