"""Debian's Asterisk 22, unpacked (never installed) into a cache folder.

Debian 12 has no Asterisk; Debian unstable has Asterisk 22, whose binaries need a newer C
library than Debian 12's. So the packages are downloaded from unstable with apt, using a
private sources file and private package lists (the system's apt state is not touched),
unpacked with ``dpkg -x``, and run through the unpacked C library's own loader. The mirror is
the one this machine's apt sources already name.

The cache (``$IVR_ASTERISK_CACHE``, else ``${XDG_CACHE_HOME:-~/.cache}/ivr/asterisk``) holds
``root/`` (the unpacked tree), ``debs/``, ``apt/`` (the private apt state) and ``stamp.json``
(package versions). With a stamp that matches, provisioning only checks that the binary runs.

``python -m ivr.phone.asterisk.provision`` provisions and prints what it did.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ivr.errors import IvrError
from ivr.phone.asterisk.mirror import debian_mirror, system_sources

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
#: dpkg architecture -> (multiarch folder, the C library's loader).
ARCHITECTURES = {
    "amd64": ("x86_64-linux-gnu", "ld-linux-x86-64.so.2"),
    "arm64": ("aarch64-linux-gnu", "ld-linux-aarch64.so.1"),
}
Progress = Callable[[str], None]


class ProvisionError(IvrError):
    """Provisioning failed; the message says which step and why."""


@dataclass(frozen=True)
class Installation:
    """An unpacked Asterisk: how to run it and where its files are."""

    root: Path
    multiarch: str
    loader_name: str
    versions: Mapping[str, str]

    @property
    def library_dir(self) -> Path:
        return self.root / "usr" / "lib" / self.multiarch

    @property
    def module_dir(self) -> Path:
        return self.library_dir / "asterisk" / "modules"

    @property
    def data_dir(self) -> Path:
        return self.root / "usr" / "share" / "asterisk"

    @property
    def version(self) -> str:
        return self.versions.get("asterisk", "")

    def command(self, *args: str) -> list[str]:
        """The command line that runs this Asterisk with ``args``."""
        loader = self.library_dir / self.loader_name
        binary = self.root / "usr" / "sbin" / "asterisk"
        return [str(loader), "--library-path", str(self.library_dir), str(binary), *args]


def default_cache(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("IVR_ASTERISK_CACHE"):
        return Path(env["IVR_ASTERISK_CACHE"]).expanduser()
    base = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser()
    return base / "ivr" / "asterisk"


def provision(cache: Path | None = None, progress: Progress | None = None) -> Installation:
    """The cached Asterisk, downloaded and unpacked first if it is not there (or broken)."""
    cache = cache or default_cache()
    say = progress or (lambda _message: None)
    multiarch, loader = _architecture()
    cache.mkdir(parents=True, exist_ok=True)
    with _locked(cache / ".lock"):
        cached = _from_stamp(cache, multiarch, loader)
        if cached and _runs(cached):
            return cached
        mirror = _mirror()
        say(f"downloading Asterisk from Debian {SUITE} ({mirror}) into {cache}")
        apt = _Apt(cache / "apt", mirror)
        apt.update()
        debs = apt.download(PACKAGES, cache / "debs")
        versions = _unpack(debs, cache / "root")
        installation = Installation(cache / "root", multiarch, loader, versions)
        _finish_sounds(installation)
        if not _runs(installation):
            raise ProvisionError(
                f"the unpacked Asterisk does not run: {_version_error(installation)}"
            )
        (cache / "stamp.json").write_text(json.dumps({"packages": versions}, indent=1) + "\n")
        say(f"Asterisk {installation.version} ready in {cache / 'root'}")
        return installation


def _architecture() -> tuple[str, str]:
    arch = _run(["dpkg", "--print-architecture"], "dpkg --print-architecture").strip()
    if arch not in ARCHITECTURES:
        raise ProvisionError(f"no recipe for architecture {arch!r} (know {sorted(ARCHITECTURES)})")
    return ARCHITECTURES[arch]


def _mirror() -> str:
    mirror = debian_mirror(system_sources())
    if mirror is None:
        raise ProvisionError(
            "no Debian mirror in /etc/apt/sources.list or /etc/apt/sources.list.d/ "
            "(a 'deb' source whose URI ends in /debian)"
        )
    return mirror


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _from_stamp(cache: Path, multiarch: str, loader: str) -> Installation | None:
    try:
        versions = json.loads((cache / "stamp.json").read_text())["packages"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(versions, dict) or set(versions) != set(PACKAGES):
        return None
    return Installation(cache / "root", multiarch, loader, versions)


def _runs(installation: Installation) -> bool:
    try:
        result = subprocess.run(
            installation.command("-V"), capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and result.stdout.startswith("Asterisk 22")


def _version_error(installation: Installation) -> str:
    try:
        result = subprocess.run(
            installation.command("-V"), capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return (result.stdout + result.stderr).strip()[-500:] or f"exit status {result.returncode}"


class _Apt:
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
        _run(
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
                f"{', '.join(failed) or 'some packages'}: {_tail(result.stderr)}"
            )
        return sorted(folder.glob("*.deb"))


def _unpack(debs: Sequence[Path], root: Path) -> dict[str, str]:
    fresh = root.with_name(root.name + ".new")
    if fresh.exists():
        shutil.rmtree(fresh)
    fresh.mkdir(parents=True)
    versions: dict[str, str] = {}
    for deb in debs:
        fields = _run(["dpkg-deb", "-f", str(deb), "Package", "Version"], f"dpkg-deb -f {deb.name}")
        values = dict(line.split(": ", 1) for line in fields.splitlines() if ": " in line)
        versions[values.get("Package", deb.name)] = values.get("Version", "?")
        _run(["dpkg", "-x", str(deb), str(fresh)], f"unpacking {deb.name} (dpkg -x)")
    missing = sorted(set(PACKAGES) - set(versions))
    if missing:
        raise ProvisionError(f"downloaded packages lack {', '.join(missing)}")
    if root.exists():
        shutil.rmtree(root)
    fresh.rename(root)
    return versions


def _finish_sounds(installation: Installation) -> None:
    """What the sounds package's maintainer script would do: ``sounds/en`` -> Allison."""
    english = installation.data_dir / "sounds" / "en"
    if not english.exists():
        english.symlink_to("en_US_f_Allison")


def _run(command: list[str], what: str, timeout: float = 120) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProvisionError(f"{what} failed: {exc}") from exc
    if result.returncode != 0:
        raise ProvisionError(
            f"{what} failed (exit status {result.returncode}): {_tail(result.stderr)}"
        )
    return result.stdout


def _tail(text: str, lines: int = 6) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in kept if line.startswith(("E:", "W:", "Err:", "dpkg"))]
    return " | ".join((errors or kept)[-lines:]) or "no message"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ivr.phone.asterisk.provision [CACHE]``"""
    args = list(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    try:
        installation = provision(Path(args[0]) if args else None, print)
    except ProvisionError as exc:
        print(f"asterisk provisioning: {exc}", file=sys.stderr)
        return 1
    took = time.monotonic() - started
    print(f"Asterisk {installation.version} at {installation.root} ({took:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
