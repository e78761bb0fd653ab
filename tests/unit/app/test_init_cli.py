"""``ivr init``: the default hotline shipped in the package, copied out for the user."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.app.cli import main

ROOT = Path(__file__).resolve().parents[3]


def test_init_writes_the_default_hotline_which_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path / "hotline")]) == 0
    flow = tmp_path / "hotline" / "callflows.yaml"
    # The same flow, its first line naming the installed schema (test_flow_schema.py)
    shipped = (ROOT / "callflows.yaml").read_bytes()
    assert flow.read_bytes().split(b"\n", 1)[1] == shipped.split(b"\n", 1)[1]
    catalog = tmp_path / "hotline" / "prompts" / "prompts.yaml"
    assert catalog.read_bytes() == (ROOT / "prompts" / "prompts.yaml").read_bytes()
    assert f"wrote {flow}" in capsys.readouterr().out

    assert main(["validate", str(flow)]) == 0
    assert ": OK: " in capsys.readouterr().out


def test_init_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "callflows.yaml"
    mine.write_text("my own flow\n")

    assert main(["init", str(tmp_path)]) == 1

    assert mine.read_text() == "my own flow\n"
    assert not (tmp_path / "prompts").exists()
    err = capsys.readouterr().err
    assert err == f"ivr init: {mine} already exists; nothing was written\n"
