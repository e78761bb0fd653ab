"""A private Asterisk's own files: every folder under one run folder, the system
configuration that points at them (``asterisk.conf``, ``modules.conf``, ``logger.conf``,
``rtp.conf``), and a sounds folder where the hotline's prompts are found by name.

Sounds: Asterisk looks a relative name up as ``sounds/<channel language>/<name>``, then
``sounds/<name>``. The driver plays prompts as ``en/main_menu`` (relative to ``prompts/``), so
``sounds/en/`` holds Debian's English sounds (for SAY NUMBER, SAY DIGITS and queue
announcements) plus a link per prompt language (``sounds/en/zh`` -> ``prompts/zh``).
Everything is a symbolic link: a re-rendered prompt is heard on the next call.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: Modules that would listen on the network or reach outside; the sandbox never loads them.
NOLOAD = tuple(
    f"{name}.so"
    for name in """chan_iax2 chan_mgcp chan_skinny chan_unistim chan_motif chan_ooh323 chan_dahdi
    pbx_dundi res_xmpp res_hep res_hep_pjsip res_hep_rtcp res_stun_monitor res_phoneprov
    res_pjsip_phoneprov_provider res_snmp res_calendar res_http_media_cache cdr_radius cel_radius
    res_config_ldap res_config_pgsql cdr_pgsql cel_pgsql res_config_odbc res_odbc cdr_tds cel_tds
    res_statsd res_prometheus""".split()
)
SYSTEM_FOLDERS = (
    *("etc", "lib", "keys", "agi", "spool", "spool/outgoing", "run", "log", "data/sounds"),
    "moh",
)


@dataclass(frozen=True)
class RunFolder:
    """Where a private Asterisk keeps everything."""

    path: Path

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    @property
    def etc(self) -> Path:
        return self.path / "etc"

    @property
    def log_file(self) -> Path:
        return self.path / "log" / "full"

    @property
    def control_socket(self) -> Path:
        return self.path / "run" / "asterisk.ctl"

    def create(self) -> None:
        for folder in SYSTEM_FOLDERS:
            (self.path / folder).mkdir(parents=True, exist_ok=True)


def asterisk_conf(run: RunFolder, module_dir: Path) -> str:
    folders = {
        "astetcdir": run / "etc",
        "astmoddir": module_dir,
        "astvarlibdir": run / "lib",
        "astdbdir": run / "lib",
        "astkeydir": run.path,  # Asterisk reads keys from <astkeydir>/keys
        "astdatadir": run / "data",
        "astagidir": run / "agi",
        "astspooldir": run / "spool",
        "astrundir": run / "run",
        "astlogdir": run / "log",
    }
    lines = ["[directories]", *(f"{key} => {value}" for key, value in folders.items())]
    lines += ["", "[options]", "verbose = 3", "documentation_language = en_US", ""]
    return "\n".join(lines)


def modules_conf() -> str:
    return "[modules]\nautoload = yes\n" + "".join(f"noload => {name}\n" for name in NOLOAD)


def logger_conf() -> str:
    """``log/full``: everything a test or an admin needs, dialplan steps included.

    The sandbox logs ``dtmf`` so the tests can see which keys arrived; that records the
    digits of PINs. Never log ``dtmf`` on a production Asterisk (docs/asterisk.md)."""
    return (
        "[general]\ndateformat = %F %T.%3q\n\n[logfiles]\n"
        "full => notice,warning,error,verbose(3),dtmf\n"
        "console => notice,warning,error\n"
    )


def rtp_conf(start: int, end: int) -> str:
    return f"[general]\nrtpstart = {start}\nrtpend = {end}\n"


def link_sounds(run: RunFolder, data_dir: Path, prompts: Path, languages: tuple[str, ...]) -> None:
    """``data/``: Debian's data folder by links, with ``sounds/en`` as described above."""
    data = run / "data"
    for entry in data_dir.iterdir():
        if entry.name != "sounds":
            _link(data / entry.name, entry)
    english = data / "sounds" / "en"
    english.mkdir(parents=True, exist_ok=True)
    for entry in (data_dir / "sounds" / "en_US_f_Allison").iterdir():
        _link(english / entry.name, entry)
    for language in languages:
        _link(english / language, prompts.resolve() / language)


def link_hold_music(run: RunFolder, folder: Path) -> None:
    """``sounds/moh`` -> the hold music folder: the controller plays ``moh/hold-1``."""
    _link(run / "data" / "sounds" / "moh", folder.resolve())


def _link(link: Path, target: Path) -> None:
    if link.is_symlink() or link.exists():
        if link.is_symlink() and Path(os.readlink(link)) == target:
            return
        link.unlink()
    link.symlink_to(target)
