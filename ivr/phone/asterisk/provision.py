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
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ivr.phone.asterisk.debian_packages import (
    PACKAGES,
    SUITE,
    Apt,
    ProvisionError,
    run_tool,
    unpack,
)
from ivr.phone.asterisk.mirror import debian_mirror, system_sources

#: dpkg architecture -> (multiarch folder, the C library's loader).
ARCHITECTURES = {
    "amd64": ("x86_64-linux-gnu", "ld-linux-x86-64.so.2"),
    "arm64": ("aarch64-linux-gnu", "ld-linux-aarch64.so.1"),
}
Progress = Callable[[str], None]


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
        apt = Apt(cache / "apt", mirror)
        apt.update()
        debs = apt.download(PACKAGES, cache / "debs")
        versions = unpack(debs, cache / "root")
        installation = Installation(cache / "root", multiarch, loader, versions)
        finish_sounds(installation)
        if not _runs(installation):
            raise ProvisionError(
                f"the unpacked Asterisk does not run: {_version_error(installation)}"
            )
        (cache / "stamp.json").write_text(json.dumps({"packages": versions}, indent=1) + "\n")
        say(f"Asterisk {installation.version} ready in {cache / 'root'}")
        return installation


def _architecture() -> tuple[str, str]:
    arch = run_tool(["dpkg", "--print-architecture"], "dpkg --print-architecture").strip()
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


def finish_sounds(installation: Installation) -> None:
    """What the sounds package's maintainer script would do: ``sounds/en`` -> Allison."""
    english = installation.data_dir / "sounds" / "en"
    if not english.exists():
        english.symlink_to("en_US_f_Allison")


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
