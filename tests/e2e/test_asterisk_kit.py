"""The Asterisk kit as an administrator installs it: ``ivr asterisk-config --out DIR``, then
a fresh Asterisk folder whose own ``extensions.conf``, ``pjsip.conf``, ``queues.conf`` and
``musiconhold.conf`` hold the ``#include`` lines exactly as README.md's "In your own
Asterisk" block gives them (read from the README, the folder replaced). The real Asterisk 22
loads them; ``asterisk -rx`` shows the ``[hotline]`` context, the agents' endpoints with
digest authentication, and the fallback queues with the members their skills and languages
give. An agent phone registers with the password from ``agent-secrets.json`` (and not with
another); with the controller down, calls reach the fallback queue of their language, or
the general queue when nobody speaks it.

It runs an Asterisk of its own on free ports (a group of its own in tests/worker_groups.py).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr.app.asterisk_cli import register
from ivr.app.config import Settings
from ivr.phone.asterisk import agent_secrets, children, layout
from ivr.phone.asterisk.debian_packages import ProvisionError
from ivr.phone.asterisk.provision import Installation, provision

from . import sipp
from .conftest import FLOW_PATH, PROMPTS, ROOT, unavailable

pytestmark = pytest.mark.asterisk

README_FOLDER = "/etc/asterisk/hotline"
#: The administrator's own files before the hotline's lines are added.
OWN_FILES = {
    "extensions.conf": (
        "[general]\nstatic = yes\nwriteprotect = yes\n\n[globals]\n\n"
        "; Our own lines: one for Chinese callers, one for French ones (nobody speaks French).\n"
        "[from-zh-line]\nexten => 100,1,Set(CHANNEL(language)=zh)\n"
        " same => n,Goto(hotline,100,1)\n\n"
        "[from-fr-line]\nexten => 100,1,Set(CHANNEL(language)=fr)\n"
        " same => n,Goto(hotline,100,1)\n\n"
    ),
    "pjsip.conf": "; our own endpoints would be here\n",
    "queues.conf": "[general]\npersistentmembers = no\n\n",
    "musiconhold.conf": "; our own music classes would be here\n",
}


def readme_includes(folder: Path) -> dict[str, list[str]]:
    """File name -> its ``#include`` lines, from README.md's block, for ``folder``."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("**In your own Asterisk.**") :]
    block = section.split("```", 2)[1]
    includes: dict[str, list[str]] = {}
    current = None
    for line in block.splitlines():
        header = re.match(r"; /etc/asterisk/([\w.-]+\.conf)", line)
        if header:
            current = includes.setdefault(header.group(1), [])
        elif line.startswith("#include"):
            assert current is not None, f"README: {line!r} under no file"
            current.append(line.replace(README_FOLDER, str(folder)))
    return includes


@dataclass
class Kit:
    installation: Installation
    conf: Path
    out: Path
    sip_port: int
    log: Path
    process: subprocess.Popen[bytes]

    def rx(self, command: str) -> str:
        argv = self.installation.command("-C", str(self.conf), "-rx", command)
        result = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        assert result.returncode == 0, f"asterisk -rx {command!r}: {result.stderr}"
        return result.stdout

    def booted(self) -> bool:
        try:
            return "Asterisk" in self.rx("core show version")
        except (AssertionError, subprocess.TimeoutExpired):
            return False

    def wait_in_log(self, pattern: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.log.read_text(errors="replace")):
            assert time.monotonic() < deadline, f"no {pattern!r} in {self.log}"
            time.sleep(0.1)


def write_kit(out: Path, sip_port: int, fastagi_port: int) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    argv = ["asterisk-config", "--out", str(out), "--sip-port", str(sip_port)]
    argv += ["--fastagi", f"127.0.0.1:{fastagi_port}", "--demo-agents"]
    args = parser.parse_args(argv)
    assert args.run(args, Settings(FLOW_PATH, "sqlite://", "WARNING")) == 0


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kit]:
    try:
        installation = provision()
    except ProvisionError as exc:
        unavailable(f"no Asterisk to test against: {exc}")
    base = tmp_path_factory.mktemp("asterisk-kit")
    run, out = layout.RunFolder(base / "asterisk"), base / "hotline"
    sip = sipp.free_port(span=100)  # SIP, then RTP
    controller = sipp.free_port(socket.SOCK_STREAM)  # nothing listens: the controller is down
    write_kit(out, sip, controller)
    run.create()
    system = {
        "asterisk.conf": layout.asterisk_conf(run, installation.module_dir),
        "modules.conf": layout.modules_conf(),
        "logger.conf": layout.logger_conf(),
        "rtp.conf": layout.rtp_conf(sip + 2, sip + 99),
    }
    for name, lines in readme_includes(out).items():
        system[name] = OWN_FILES[name] + "\n".join(lines) + "\n"
    for name, text in system.items():
        (run.etc / name).write_text(text)
    layout.link_sounds(run, installation.data_dir, PROMPTS, ("en", "zh"))
    conf = run.etc / "asterisk.conf"
    log = run / "log" / "console.log"
    argv = installation.command("-C", str(conf), "-f", "-n", "-vvv")
    process = children.spawn(argv, log, None)
    box = Kit(installation, conf, out, sip, run.log_file, process)
    try:
        children.wait_until(box.booted, process, "Asterisk", 30, log)
        box.rx("core waitfullybooted")
        yield box
    finally:
        if process.poll() is None:
            subprocess.run(
                installation.command("-C", str(conf), "-rx", "core stop now"),
                capture_output=True,
                timeout=10,
            )
        children.end(process, 5)


def test_the_readme_names_an_include_for_every_file_an_asterisk_reads(kit: Kit) -> None:
    includes = readme_includes(kit.out)
    assert set(includes) == set(OWN_FILES)
    for lines in includes.values():
        for line in lines:
            included = Path(line.split('"')[1])
            assert included.is_file(), f"README includes {included}, not written"


def test_the_hotline_context_is_loaded(kit: Kit) -> None:
    assert "'100' =>" in kit.rx("dialplan show hotline")
    assert "IVR fallback queue" in kit.rx("dialplan show hotline-queue")


def test_agent_endpoints_have_digest_authentication_and_no_password(kit: Kit) -> None:
    endpoints = kit.rx("pjsip show endpoints")
    for name in ("agent-alice", "agent-bob", "agent-chen", "agent-sam", "caller"):
        assert f" {name} " in endpoints or f" {name}\n" in endpoints, endpoints
    auth = kit.rx("pjsip show auth agent-bob")
    passwords = agent_secrets.load(kit.out / agent_secrets.FILE_NAME)
    assert passwords["agent-bob"] not in auth
    expected = hashlib.md5(f"agent-bob:hotline:{passwords['agent-bob']}".encode()).hexdigest()
    assert re.search(r"auth_type\s+: digest\n", auth), auth
    assert re.search(rf"password_digest\s+: MD5:{expected}\n", auth), auth
    assert re.search(r"realm\s+: hotline\n", auth), auth


def members(kit: Kit, queue: str) -> set[str]:
    text = kit.rx(f"queue show {queue}")
    assert f"{queue} has" in text, text
    return set(re.findall(r"\b(agent-\w+) \(PJSIP/", text))


def test_the_fallback_queues_hold_the_agents_by_skill_and_language(kit: Kit) -> None:
    assert members(kit, "hotline-general") == {
        "agent-alice",
        "agent-bob",
        "agent-chen",
        "agent-sam",
    }
    assert members(kit, "hotline-general-zh") == {"agent-alice", "agent-chen", "agent-sam"}
    assert members(kit, "hotline-payments") == {"agent-alice", "agent-chen", "agent-sam"}
    assert members(kit, "hotline-closure-zh") == {"agent-sam"}
    assert "No such queue" in kit.rx("queue show hotline-general-en")  # same as general


@pytest.mark.parametrize(
    "line, queue",
    [("from-zh-line", "hotline-general-zh"), ("from-fr-line", "hotline-general")],
    ids=["chinese", "french-nobody-speaks"],
)
def test_with_the_controller_down_a_call_reaches_its_languages_queue(
    kit: Kit, line: str, queue: str
) -> None:
    kit.rx(f"channel originate Local/100@{line} application Wait 20")
    try:
        kit.wait_in_log(rf"IVR fallback queue {queue}\b")
        deadline = time.monotonic() + 10
        while f"1. Local/100@{line}" not in (shown := kit.rx(f"queue show {queue}")):
            assert time.monotonic() < deadline, shown
            time.sleep(0.2)
    finally:
        kit.rx("channel request hangup all")


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def register_agent(kit: Kit, name: str, password: str) -> str:
    """A SIP REGISTER answered with a digest challenge, sent again with the answer: the
    final status line."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone:
        phone.bind(("127.0.0.1", 0))
        phone.settimeout(5)
        port = phone.getsockname()[1]
        uri = f"sip:127.0.0.1:{kit.sip_port}"
        call_id, tag = secrets.token_hex(8), secrets.token_hex(4)

        def send(cseq: int, authorization: str = "") -> str:
            request = (
                f"REGISTER {uri} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{secrets.token_hex(6)};rport\r\n"
                "Max-Forwards: 70\r\n"
                f"From: <sip:{name}@127.0.0.1>;tag={tag}\r\nTo: <sip:{name}@127.0.0.1>\r\n"
                f"Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n"
                f"Contact: <sip:{name}@127.0.0.1:{port}>\r\nExpires: 60\r\n"
                f"{authorization}Content-Length: 0\r\n\r\n"
            )
            phone.sendto(request.encode(), ("127.0.0.1", kit.sip_port))
            while True:
                reply = phone.recv(65535).decode(errors="replace")
                if not reply.startswith("SIP/2.0 100"):
                    return reply

        challenge = send(1)
        assert challenge.startswith("SIP/2.0 401"), challenge
        fields = dict(re.findall(r'(\w+)="?([^",\r]+)"?', challenge.split("WWW-Authenticate:")[1]))
        realm, nonce = fields["realm"], fields["nonce"]
        cnonce, count = secrets.token_hex(4), "00000001"
        answer = md5(
            f"{md5(f'{name}:{realm}:{password}')}:{nonce}:{count}:{cnonce}:auth:"
            f"{md5(f'REGISTER:{uri}')}"
        )
        opaque = f', opaque="{fields["opaque"]}"' if "opaque" in fields else ""
        authorization = (
            f'Authorization: Digest username="{name}", realm="{realm}", nonce="{nonce}", '
            f'uri="{uri}", response="{answer}", algorithm=MD5, qop=auth, nc={count}, '
            f'cnonce="{cnonce}"{opaque}\r\n'
        )
        return send(2, authorization).splitlines()[0]


def test_an_agent_phone_registers_with_the_password_from_the_secrets_file(kit: Kit) -> None:
    passwords = agent_secrets.load(kit.out / agent_secrets.FILE_NAME)
    assert register_agent(kit, "agent-chen", "not-the-password").startswith("SIP/2.0 401")
    assert register_agent(kit, "agent-chen", passwords["agent-chen"]) == "SIP/2.0 200 OK"
    assert "agent-chen" in kit.rx("pjsip show contacts")
