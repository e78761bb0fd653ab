"""The web is a layer of its own: no module of ``ivr/web`` imports a phone system, the
store or the composition root, not even for type checking; the composition root passes
in what the web needs (``ivr.web.parts.WebParts``) and the phone systems' blueprints."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
WEB_MODULES = sorted((ROOT / "ivr" / "web").glob("*.py"))
BELOW_OR_BESIDE = ("ivr.phone", "ivr.store", "ivr.app")


def imported_names(source: str) -> set[str]:
    """Every module a source file imports, at any depth (``TYPE_CHECKING`` blocks too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_web_package_is_where_this_test_looks() -> None:
    assert {"__init__.py", "parts.py", "auth.py", "guard.py"} <= {p.name for p in WEB_MODULES}


@pytest.mark.parametrize("module", WEB_MODULES, ids=lambda path: path.name)
def test_a_web_module_imports_no_phone_store_or_app(module: Path) -> None:
    names = imported_names(module.read_text(encoding="utf-8"))
    reached = {
        name
        for name in names
        for layer in BELOW_OR_BESIDE
        if name == layer or name.startswith(layer + ".")
    }
    assert reached == set()
