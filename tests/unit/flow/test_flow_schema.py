"""The JSON Schema of callflows.yaml (ivr/flow/callflows.schema.json), for editors: it is
a valid draft 2020-12 schema; the shipped flows and the documented examples pass it; flows
the loader refuses for a misspelt key or a value of the wrong type are refused by it too;
and its keys are the loader's own key tables, so neither can gain a key alone. The loader
stays the authority (FILE:LINE:COL, targets, prompts): the schema never accepts less."""

from __future__ import annotations

import copy
import functools
import importlib.util
import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from ivr.app.bootstrap import load_hotline
from ivr.app.flow_schema import (
    SCHEMA_PATH,
    flow_data,
    load_schema,
    schema_problems,
    with_schema_at,
)
from ivr.errors import FlowErrors
from ivr.flow import compiler, complaints, loader, queue_policy
from ivr.flow.builders import BUILDERS

ROOT = Path(__file__).resolve().parents[3]
REAL_FLOW = ROOT / "callflows.yaml"
DOCS = ROOT / "docs" / "flow-language.md"
MODELINE = "# yaml-language-server: $schema=ivr/flow/callflows.schema.json"


@functools.cache
def _loader_examples() -> Any:
    """tests/unit/flow/test_loader.py's small valid flow (FLOW, CATALOG)."""
    spec = importlib.util.spec_from_file_location(
        "loader_examples", Path(__file__).with_name("test_loader.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema)


def errors(validator: Draft202012Validator, data: Any) -> list[str]:
    return [e.message for e in validator.iter_errors(data)]


def test_the_schema_is_a_valid_2020_12_schema(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_it_ships_in_the_package_and_the_flow_names_it_on_its_first_line() -> None:
    assert SCHEMA_PATH == ROOT / "ivr" / "flow" / "callflows.schema.json"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"ivr.flow" = ["callflows.schema.json"]' in pyproject
    first = REAL_FLOW.read_text(encoding="utf-8").splitlines()[0]
    assert first == MODELINE
    assert (REAL_FLOW.parent / first.split("$schema=")[1]).resolve() == SCHEMA_PATH.resolve()


@pytest.mark.parametrize(
    "path", [REAL_FLOW, ROOT / "ivr" / "defaults" / "callflows.yaml"], ids=["top", "defaults"]
)
def test_the_shipped_flows_pass(validator: Draft202012Validator, path: Path) -> None:
    assert errors(validator, flow_data(path.read_text(encoding="utf-8"))) == []


def test_the_loader_tests_flow_and_the_surveyed_flow_pass(
    validator: Draft202012Validator, tmp_path: Path
) -> None:
    from survey_flow import surveyed_flow

    assert errors(validator, flow_data(_loader_examples().FLOW)) == []
    surveyed = surveyed_flow(tmp_path, general_after_agent=True)
    assert errors(validator, flow_data(surveyed.read_text(encoding="utf-8"))) == []


def doc_examples() -> Iterator[tuple[int, Any]]:
    """The ```yaml blocks of docs/flow-language.md: (line, data)."""
    text = DOCS.read_text(encoding="utf-8")
    for match in re.finditer(r"```yaml\n(.*?)```", text, re.S):
        line = text.count("\n", 0, match.start()) + 1
        body = match.group(1).replace("\n    ...\n", "\n    type: hangup\n")
        yield line, flow_data(body)


def test_every_example_in_the_flow_language_doc_passes(schema: dict[str, Any]) -> None:
    """Whole files against the schema; fragments (one section, or a few nodes) against the
    part they show, so an example written with a wrong key fails here."""
    loose = copy.deepcopy(schema)
    loose["required"] = []
    top = Draft202012Validator(loose)
    node = Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/node"})
    checked = 0
    for line, data in doc_examples():
        assert isinstance(data, dict), f"docs/flow-language.md:{line}"
        if set(data) <= set(schema["properties"]):
            problems = errors(top, data)
        else:  # node id -> node
            problems = [p for value in data.values() for p in errors(node, value)]
        assert problems == [], f"docs/flow-language.md:{line}: {problems}"
        checked += 1
    assert checked >= 15


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(flow: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        where = flow
        for part in parents:
            where = where[part]
        where[last] = value

    return change


def _rename(path: str, new: str) -> Callable[[dict[str, Any]], None]:
    def change(flow: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        where = flow
        for part in parents:
            where = where[part]
        where[new] = where.pop(last)

    return change


BROKEN = {
    "top-level key misspelt": _rename("queues", "queus"),
    "node key misspelt": _rename("nodes.main_menu.on_failure", "on_failur"),
    "defaults key misspelt": _rename("defaults.retries", "retry"),
    "queue policy key misspelt": _set("queues.general.max_wiat", "5m"),
    "unknown node type": _set("nodes.main_menu.type", "menus"),
    "a required key missing": lambda flow: flow["nodes"]["main_menu"].pop("choices"),
    "choices as a list": _set("nodes.main_menu.choices", ["ask_account", "goodbye"]),
    "a prompt as a mapping": _set("nodes.main_menu.prompt", {"en": "main_menu"}),
    "a duration without its unit": _set("defaults.timeout", 5),
    "retries in words": _set("defaults.retries", "two"),
    "secure as a word": _set("nodes.ask_pin.secure", "maybe"),
    "a key that is no keypad key": _set("nodes.main_menu.choices.12", "goodbye"),
    "a callback mode": _set("nodes.agent.callback", "sometimes"),
    "a finish key": _set("nodes.ask_account.finish_key", "5"),
    "a version": _set("version", 2),
    "the nodes as a list": _set("nodes", ["main_menu"]),
    "a category in capitals": _set("complaints", {"categories": ["Fees"]}),
}


@pytest.mark.parametrize("mistake", sorted(BROKEN))
def test_a_flow_the_loader_refuses_the_schema_refuses(
    validator: Draft202012Validator, tmp_path: Path, mistake: str
) -> None:
    examples = _loader_examples()
    flow = flow_data(examples.FLOW)
    assert errors(validator, flow) == []
    BROKEN[mistake](flow)
    text = yaml.safe_dump(flow, allow_unicode=True, sort_keys=False)
    files = examples.write_files(tmp_path, text, examples.CATALOG)
    with pytest.raises(FlowErrors):
        load_hotline(files.flow)
    assert errors(validator, flow_data(text)), f"the schema accepts: {mistake}"


def test_schema_problems_name_where_they_are(tmp_path: Path) -> None:
    """``ivr validate --schema``'s lines: the path in the file, then the message."""
    text = _loader_examples().FLOW.replace("    on_failure: agent\n", "    on_failur: agent\n", 1)
    problems = schema_problems(flow_data(text))
    assert problems, "a misspelt key passes the schema"
    assert any("nodes.main_menu" in p and "on_failur" in p for p in problems), problems


def _kind(schema: dict[str, Any], name: str) -> dict[str, Any]:
    kind: dict[str, Any] = schema["$defs"][f"{name}_node"]
    return kind


def test_every_node_type_and_key_the_loader_accepts_is_in_the_schema(
    schema: dict[str, Any],
) -> None:
    assert set(schema["$defs"]["node"]["properties"]["type"]["enum"]) == set(BUILDERS)
    for name, (allowed, required, _) in BUILDERS.items():
        kind = _kind(schema, name)
        assert set(kind["properties"]) == {*compiler.COMMON, *allowed, *required}, name
        assert set(kind["required"]) == {"type", *required}, name
        assert kind["additionalProperties"] is False, name
        assert kind["properties"]["type"] == {"const": name, "description": kind["description"]}


def test_the_sections_keys_are_the_loaders(schema: dict[str, Any]) -> None:
    assert set(schema["properties"]) == {*loader.TOP_LEVEL, *loader.SECTIONS}
    assert set(schema["required"]) == {"start", "nodes"}
    assert set(schema["$defs"]["defaults"]["properties"]) == set(loader.DEFAULT_KEYS)
    queue_keys = {"priority", "skill", *queue_policy.QUEUE_KEYS, queue_policy.SERVICE_LEVEL}
    assert set(schema["$defs"]["queue"]["properties"]) == queue_keys
    assert set(complaints.COMPLAINT_KEYS) == set(schema["$defs"]["complaints"]["properties"])
    assert set(queue_policy.NODE_KEYS) <= set(_kind(schema, "queue")["properties"])


def test_every_property_has_a_description_for_the_editors_hover(schema: dict[str, Any]) -> None:
    missing = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for name, prop in value.get("properties", {}).items():
                if "description" not in prop:
                    missing.append(f"{where}.{name}")
            for key, item in value.items():
                if key != "if":  # a condition, not a property anyone writes
                    walk(item, f"{where}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{where}[{index}]")

    walk(schema, "$")
    assert missing == []


def test_ivr_validate_schema_checks_a_flow_against_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ivr.app import flow_schema as schema_file
    from ivr.app.cli import main

    examples = _loader_examples()
    files = examples.write_files(tmp_path, examples.FLOW, examples.CATALOG)
    assert main(["validate", "--schema", str(files.flow)]) == 0
    assert "OK for callflows.schema.json" in capsys.readouterr().out

    # A schema that refuses what the loader accepts is the schema's fault, and said so.
    stricter = load_schema()
    stricter["$defs"]["menu_node"]["properties"].pop("max_visits")
    strict_file = tmp_path / "callflows.schema.json"
    strict_file.write_text(json.dumps(stricter), encoding="utf-8")
    monkeypatch.setattr(schema_file, "SCHEMA_PATH", strict_file)
    flow_text = examples.FLOW.replace(
        "    on_failure: agent\n", "    on_failure: agent\n    max_visits: 3\n", 1
    )
    (tmp_path / "b").mkdir()
    files = examples.write_files(tmp_path / "b", flow_text, examples.CATALOG)
    assert main(["validate", "--schema", str(files.flow)]) == 1
    err = capsys.readouterr().err
    assert "schema: nodes.main_menu:" in err and "'max_visits' was unexpected" in err
    assert "refuses a flow the loader accepts: fix the schema" in err


def test_without_jsonschema_the_option_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ivr.errors import IvrError

    monkeypatch.setitem(sys.modules, "jsonschema", None)
    with pytest.raises(IvrError, match=r"pip install jsonschema"):
        schema_problems({"start": "a", "nodes": {}})


def test_ivr_init_points_the_copied_flow_at_the_installed_schema(tmp_path: Path) -> None:
    from ivr.app.starter import write_default_hotline

    flow, _ = write_default_hotline(tmp_path / "mine")
    first, rest = flow.read_text(encoding="utf-8").split("\n", 1)
    assert first == f"# yaml-language-server: $schema={SCHEMA_PATH.resolve().as_uri()}"
    assert rest == REAL_FLOW.read_text(encoding="utf-8").split("\n", 1)[1]
    assert with_schema_at("version: 1\n", SCHEMA_PATH) == "version: 1\n"  # no modeline, none added
