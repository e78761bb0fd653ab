"""deploy/systemd: the units start real ``ivr`` commands with flags ``ivr`` has, on the
ports the rest of the kit uses, hardened; ``systemd-analyze verify`` accepts them (on
copies that run this checkout's ``ivr``: the units name /opt/ivr) where it exists, and
reports a misspelt directive."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from integration.ops.kit import SYSTEMD, parse_ivr, subcommand_default

UNITS = sorted(SYSTEMD.glob("*.service"))
IVR = "/opt/ivr/bin/ivr"
HARDENING = {
    "User": "ivr",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "Restart": "on-failure",
    "CapabilityBoundingSet": "",
}


def service(unit: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(unit, encoding="utf-8")
    return parser["Service"]


def exec_lines(unit: Path) -> list[tuple[str, list[str]]]:
    """Every ExecStart and ExecStartPre: (key, the command's words)."""
    out = []
    for line in unit.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key in ("ExecStart", "ExecStartPre"):
            out.append((key, value.split()))
    return out


def test_the_units_are_there() -> None:
    assert [u.name for u in UNITS] == ["ivr-fastagi.service", "ivr-serve.service"]


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_each_command_is_a_real_ivr_subcommand_with_valid_flags(unit: Path) -> None:
    lines = exec_lines(unit)
    assert [k for k, _ in lines].count("ExecStart") == 1
    for _, words in lines:
        assert words[0] == IVR, words
        parse_ivr(words[1:])  # SystemExit(2) on a subcommand or flag ivr does not have
        shown = subprocess.run(
            [sys.executable, "-m", "ivr.app.cli", words[1], "--help"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert shown.returncode == 0 and f"usage: ivr {words[1]}" in shown.stdout


def test_a_flag_ivr_does_not_have_is_refused() -> None:
    with pytest.raises(SystemExit) as refused:
        parse_ivr(["serve", "--prot", "8080"])
    assert refused.value.code == 2


def test_serve_and_fastagi_listen_where_the_kit_expects() -> None:
    serve = parse_ivr(dict(exec_lines(SYSTEMD / "ivr-serve.service"))["ExecStart"][1:])
    assert (serve.host, serve.port, serve.fastagi) == ("127.0.0.1", 8080, "127.0.0.1:4573")
    assert serve.port == subcommand_default("serve", "--port")
    assert serve.fastagi == subcommand_default("serve", "--fastagi")
    fastagi = parse_ivr(dict(exec_lines(SYSTEMD / "ivr-fastagi.service"))["ExecStart"][1:])
    assert fastagi.listen == subcommand_default("fastagi", "--listen")
    # The same port: never both (the FastAGI unit conflicts with the serve unit).
    assert (
        service(SYSTEMD / "ivr-fastagi.service").parser["Unit"]["Conflicts"] == "ivr-serve.service"
    )


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_each_unit_is_hardened_and_writes_only_its_state(unit: Path) -> None:
    found = service(unit)
    for key, value in HARDENING.items():
        assert found.get(key) == value, f"{unit.name}: {key}"
    assert found["EnvironmentFile"] == "/etc/ivr/ivr.env"
    writable = found["ReadWritePaths"].split()
    assert "/var/lib/ivr" in writable
    assert "-/var/spool/asterisk" in writable  # call files are written beside outgoing/
    filters = [line for line in unit.read_text().splitlines() if "SystemCallFilter=" in line]
    assert filters and not any("@resources" in line for line in filters)  # FastAGI's setrlimit
    assert found["Environment"] == "IVR_FLOW=/var/lib/ivr/callflows.yaml"
    assert found["WorkingDirectory"] == "/var/lib/ivr"


def verify(units: list[Path]) -> subprocess.CompletedProcess[str]:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("no systemd-analyze (the static checks above still ran)")
    return subprocess.run(
        [analyze, "verify", "--man=no", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SYSTEMD_LOG_COLOR": "0"},
    )


def runnable_copy(unit: Path, folder: Path, change: tuple[str, str] = ("", "")) -> Path:
    """The unit with this checkout's ``ivr`` (verify checks that it is executable) and
    its environment file optional (this machine has none)."""
    text = unit.read_text(encoding="utf-8").replace(IVR, str(Path(sys.executable).parent / "ivr"))
    text = text.replace("EnvironmentFile=/", "EnvironmentFile=-/").replace(*change)
    copy = folder / unit.name
    copy.write_text(text, encoding="utf-8")
    return copy


def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path) -> None:
    result = verify([runnable_copy(unit, tmp_path) for unit in UNITS])
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_systemd_analyze_verify_reports_a_misspelt_directive(tmp_path: Path) -> None:
    unit = runnable_copy(
        SYSTEMD / "ivr-serve.service", tmp_path, ("NoNewPrivileges=", "NoNewPrivilege=")
    )
    result = verify([unit])
    assert "Unknown key" in result.stderr and "NoNewPrivilege" in result.stderr
