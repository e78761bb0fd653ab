"""Debian packages downloaded with apt on a private sources file and private package lists
(the system's apt state is not touched), and unpacked with ``dpkg -x``: the download half
of provisioning (``ivr.phone.asterisk.provision`` keeps the cache).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ivr.errors import IvrError

SUITE = "sid"
#: Asterisk and the libraries it needs that Debian 12's are too old for or lacks.
ASTERISK_PACKAGES = tuple(
    """asterisk asterisk-modules libc6 libssl3t64 libxml2-16 libjansson4 libedit2 liburiparser1
    libpopt0 libsrtp2-1 libsqlite3-0 libxslt1.1 libcap2 libcrypt1 libuuid1 libsystemd0 libstdc++6
    libgcc-s1 zlib1g liblzma5 libbsd0 libmd0 libtinfo6 libspeexdsp1""".split()
)
#: English sounds for SAY NUMBER / SAY DIGITS (the same 1.6.1 as in Debian 12).
SOUND_PACKAGES = ("asterisk-core-sounds-en-wav",)
PACKAGES = ASTERISK_PACKAGES + SOUND_PACKAGES


class ProvisionError(IvrError):
    """Provisioning failed; the message says which step and why."""


class Apt:
    """apt-get on private sources and lists: the system's apt state stays as it is."""

    def __init__(self, state: Path, mirror: str) -> None:
        self.state = state
        self.mirror = mirror
        for folder in ("lists/partial", "cache/archives/partial"):
            (state / folder).mkdir(parents=True, exist_ok=True)
        self.sources = state / "sources.list"
        self.sources.write_text(f"deb {mirror} {SUITE} main\n")

    def options(self) -> list[str]:
        settings = {
            "Dir::Etc::SourceList": str(self.sources),
            "Dir::Etc::SourceParts": "/dev/null",
            "Dir::Etc::Preferences": "/dev/null",
            "Dir::Etc::PreferencesParts": "/dev/null",
            "Dir::State::Lists": str(self.state / "lists"),
            "Dir::Cache": str(self.state / "cache"),
            "Acquire::Languages": "none",
        }
        if os.geteuid() == 0:  # the _apt user could not write into our folders
            settings["APT::Sandbox::User"] = "root"
        return [part for key, value in settings.items() for part in ("-o", f"{key}={value}")]

    def update(self) -> None:
        run_tool(
            ["apt-get", "-q", *self.options(), "update"],
            f"apt-get update of Debian {SUITE} from {self.mirror}",
            timeout=600,
        )

    def download(self, packages: Sequence[str], folder: Path) -> list[Path]:
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        command = ["apt-get", "-q", *self.options(), "download"]
        result = subprocess.run(
            [*command, *packages], cwd=folder, capture_output=True, text=True, timeout=900
        )
        if result.returncode != 0:
            failed = [
                name
                for name in packages
                if subprocess.run(
                    [*command, name], cwd=folder, capture_output=True, text=True, timeout=900
                ).returncode
                != 0
            ]
            raise ProvisionError(
                f"apt-get download from {self.mirror} {SUITE} failed for "
                f"{', '.join(failed) or 'some packages'}: {tail(result.stderr)}"
            )
        return sorted(folder.glob("*.deb"))


def unpack(debs: Sequence[Path], root: Path) -> dict[str, str]:
    fresh = root.with_name(root.name + ".new")
    if fresh.exists():
        shutil.rmtree(fresh)
    fresh.mkdir(parents=True)
    versions: dict[str, str] = {}
    for deb in debs:
        fields = run_tool(
            ["dpkg-deb", "-f", str(deb), "Package", "Version"], f"dpkg-deb -f {deb.name}"
        )
        values = dict(line.split(": ", 1) for line in fields.splitlines() if ": " in line)
        versions[values.get("Package", deb.name)] = values.get("Version", "?")
        run_tool(["dpkg", "-x", str(deb), str(fresh)], f"unpacking {deb.name} (dpkg -x)")
    missing = sorted(set(PACKAGES) - set(versions))
    if missing:
        raise ProvisionError(f"downloaded packages lack {', '.join(missing)}")
    if root.exists():
        shutil.rmtree(root)
    fresh.rename(root)
    return versions


def run_tool(command: list[str], what: str, timeout: float = 120) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProvisionError(f"{what} failed: {exc}") from exc
    if result.returncode != 0:
        raise ProvisionError(
            f"{what} failed (exit status {result.returncode}): {tail(result.stderr)}"
        )
    return result.stdout


def tail(text: str, lines: int = 6) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in kept if line.startswith(("E:", "W:", "Err:", "dpkg"))]
    return " | ".join((errors or kept)[-lines:]) or "no message"
