"""The engine package does no I/O: only ``ivr/flow/loader.py`` and the bounded YAML reading
it uses (``bounded_yaml.py``) may reach for YAML, and no module of ``ivr/flow`` may pull in
a web framework, a database, a network client or an event loop, directly or through another
module."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLOW_PACKAGE = ROOT / "ivr" / "flow"
FORBIDDEN = frozenset(
    {"yaml", "sqlalchemy", "flask", "twilio", "socket", "requests", "httpx", "asyncio"}
)
IMPURE = frozenset({"loader.py", "bounded_yaml.py"})
#: The contact center's pure rules (hold ticks, the callback dialogue) are held to it too.
CENTER_RULES = sorted((ROOT / "ivr" / "center").glob("*.py"))
PURE_MODULES = [
    *sorted(p for p in FLOW_PACKAGE.glob("*.py") if p.name not in IMPURE),
    *CENTER_RULES,
]


def imported_names(source: str) -> set[str]:
    """Every module a source file imports, at any depth of the file (functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func):
            names.update(
                a.value for a in node.args if isinstance(a, ast.Constant) and type(a.value) is str
            )
    return names


def _is_dynamic_import(func: ast.expr) -> bool:
    """``__import__(...)`` or ``importlib.import_module(...)``."""
    name = getattr(func, "id", None) or getattr(func, "attr", None)
    return name in ("__import__", "import_module")


def top_level(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def test_the_package_has_the_modules_this_test_expects() -> None:
    names = {p.name for p in PURE_MODULES}
    assert {"engine.py", "model.py", "events.py", "actions.py", "state.py"} <= names
    assert (FLOW_PACKAGE / "loader.py").exists()


@pytest.mark.parametrize("module", PURE_MODULES, ids=lambda p: p.name)
def test_no_pure_module_imports_io(module: Path) -> None:
    names = imported_names(module.read_text(encoding="utf-8"))

    assert not top_level(names) & FORBIDDEN
    assert not {"ivr.flow.loader", "ivr.flow.bounded_yaml"} & names  # they bring yaml along


@pytest.mark.parametrize("module", PURE_MODULES, ids=lambda p: p.name)
def test_pure_modules_import_only_the_standard_library_and_ivr(module: Path) -> None:
    names = top_level(imported_names(module.read_text(encoding="utf-8")))

    outside = {n for n in names if n not in sys.stdlib_module_names and n not in ("ivr",)}
    assert not outside


def test_the_ast_check_would_catch_an_import() -> None:
    source = (
        "import yaml\nfrom sqlalchemy.orm import Session\ndef f():\n    import socket\n"
        "importlib.import_module('flask')\n"
    )

    found = top_level(imported_names(source)) & FORBIDDEN
    assert found == {"yaml", "sqlalchemy", "socket", "flask"}


def test_importing_the_engine_loads_nothing_forbidden() -> None:
    modules = [".".join(p.relative_to(ROOT).with_suffix("").parts) for p in PURE_MODULES]
    loaded = loaded_by_importing(modules)

    assert "ivr.flow.engine" in loaded
    assert not top_level(loaded) & FORBIDDEN
    assert not {"ivr.flow.loader", "ivr.flow.bounded_yaml"} & loaded


CENTER_PACKAGE = ROOT / "ivr" / "center"
CENTER_MODULES = sorted(CENTER_PACKAGE.glob("*.py"))


@pytest.mark.parametrize("module", CENTER_MODULES, ids=lambda p: p.name)
def test_the_contact_center_rules_import_only_the_standard_library_errors_and_the_flow(
    module: Path,
) -> None:
    names = imported_names(module.read_text(encoding="utf-8"))

    assert not top_level(names) & FORBIDDEN
    ours = {n for n in names if n.split(".")[0] == "ivr"}
    allowed = ("ivr.errors", "ivr.center", "ivr.flow.model", "ivr.flow.prompts")
    assert all(n.startswith(allowed) for n in ours), ours
    outside = {n for n in top_level(names) if n not in sys.stdlib_module_names and n != "ivr"}
    assert not outside


def test_importing_the_contact_center_rules_loads_nothing_forbidden() -> None:
    modules = [f"ivr.center.{p.stem}" for p in CENTER_MODULES if p.stem != "__init__"]
    loaded = loaded_by_importing(modules)

    assert "ivr.center.lifecycle" in loaded
    assert not top_level(loaded) & FORBIDDEN


def loaded_by_importing(modules: list[str]) -> set[str]:
    """Every module a fresh interpreter has loaded after importing ``modules``."""
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout))


def test_a_unit_of_work_does_not_load_the_reports() -> None:
    """Every call's process opens units of work (the per-call AGI script first of all);
    the reports' queries load only when a report is read (``SqlUnitOfWork.insight``)."""
    loaded = loaded_by_importing(["ivr.store.unit_of_work"])
    assert "ivr.store.unit_of_work" in loaded
    assert not {"ivr.store.insight_queries", "ivr.store.quarter_hours"} & loaded
