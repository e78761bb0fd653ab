"""The Twilio folder reaches the hotline only through what it is given: it imports nothing
of ``ivr.app``, ``ivr.store`` or ``ivr.web`` (``TYPE_CHECKING`` imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

import ivr.phone.twilio

FOLDER = Path(ivr.phone.twilio.__file__).parent
FORBIDDEN = ("ivr.app", "ivr.store", "ivr.web")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_twilio_folder_imports_no_app_store_or_web() -> None:
    found = {
        f"{path.name}: {name}"
        for path in sorted(FOLDER.glob("*.py"))
        for name in imported(path)
        if any(name == layer or name.startswith(f"{layer}.") for layer in FORBIDDEN)
    }
    assert found == set()
