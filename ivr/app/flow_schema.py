"""The flow file's JSON Schema (``ivr/flow/callflows.schema.json``), for editors
(``# yaml-language-server: $schema=...`` on the flow's first line) and ``ivr validate
--schema``. The loader stays the authority: it reports ``FILE:LINE:COL`` and checks what a
schema cannot (targets, reachability, loops, prompts); the schema refuses what it can see
(unknown keys, values of the wrong type) and never a flow the loader accepts.

``jsonschema`` is a development dependency: ``schema_problems`` says so when it is missing.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from ivr.errors import IvrError

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "flow" / "callflows.schema.json"
#: The first line of a flow file that names its schema for editors (yaml-language-server).
MODELINE = "# yaml-language-server: $schema="


def with_schema_at(text: str, schema: Path) -> str:
    """``text`` with its modeline (if its first line is one) naming ``schema``: a flow
    copied out of the checkout (``ivr init``) names the installed schema instead of a
    path relative to the checkout."""
    first, newline, rest = text.partition("\n")
    if not first.startswith(MODELINE):
        return text
    return f"{MODELINE}{schema.resolve().as_uri()}{newline}{rest}"


def load_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def flow_data(text: str) -> Any:
    """The flow's YAML as the JSON an editor checks: keys as texts (``1:`` is ``"1"``),
    dates as written (``2026-01-01``), everything else as YAML reads it."""
    return _as_json(yaml.safe_load(text))


def _as_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def schema_problems(data: Any) -> list[str]:
    """One line per problem the schema finds, ``where: message`` (``where`` the keys from
    the top, e.g. ``nodes.main_menu``), in the file's order of keys."""
    try:
        from jsonschema import Draft202012Validator
    except ImportError:
        raise IvrError("--schema needs the jsonschema package (pip install jsonschema)") from None
    validator = Draft202012Validator(load_schema())
    out = []
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.path]):
        where = ".".join(str(part) for part in error.absolute_path) or "(top)"
        out.append(f"{where}: {_message(error)}")
    return out


def _message(error: Any) -> str:
    """The most specific message: a node's ``if``/``then`` error says which key."""
    best = error
    while best.context:
        best = min(best.context, key=lambda e: len(e.message))
    return str(best.message)
