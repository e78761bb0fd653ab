"""Load ``callflows.yaml`` and its prompt catalog into an immutable ``Flow``.

The only module of ``ivr.flow`` that does I/O. It reports every problem at once, each as
``FILE:LINE:COL: message``, by raising ``FlowErrors``; a flow that loads is safe to run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from ivr.errors import FlowErrors, SourcePosition
from ivr.flow import model, nodes
from ivr.flow.bounded_yaml import YamlLimitExceeded, YamlLimits, compose, read_bounded
from ivr.flow.collector import collector_paused
from ivr.flow.compiler import Defaults, NodeCompiler, SourceIndex
from ivr.flow.complaints import (
    COMPLAINT_KEYS,
    ComplaintStandard,
    categories_set,
    check_categories,
    read_standard,
)
from ivr.flow.graph_checks import GraphChecker
from ivr.flow.located import Fields, Located, Map, Reader, Scalar, suggestion
from ivr.flow.name_checks import NameChecker
from ivr.flow.node_reader import compile_node
from ivr.flow.prompts import Catalog, placeholders
from ivr.flow.queue_policy import (
    QUEUE_KEYS,
    SERVICE_LEVEL,
    check_queue_targets,
    read_policy,
    read_service_level,
    target_positions,
)

TOP_LEVEL = (
    *("version", "start", "languages", "prompts", "defaults", "queues", "nodes"),
    "timezone",
)
#: Optional top-level sections, each read by its own module.
SECTIONS = ("complaints",)
DEFAULT_KEYS = (
    "language",
    "timeout",
    "retries",
    "invalid_prompt",
    "timeout_prompt",
    "on_error",
    "on_max_visits",
)


def load_flow(
    path: str | Path, actions: Mapping[str, model.ActionSpec], limits: YamlLimits | None = None
) -> model.Flow:
    """Read, compile and check a flow file; raise ``FlowErrors`` listing every problem.
    ``limits`` bound the flow file and its prompt catalog (``YamlLimits()`` if None)."""
    path = Path(path)
    reader = Reader()
    with collector_paused():
        flow = _read(path, reader, actions, limits)
    if reader.problems or flow is None:
        raise FlowErrors(reader.problems)
    return flow


def _read(
    path: Path, reader: Reader, actions: Mapping[str, model.ActionSpec], limits: YamlLimits | None
) -> model.Flow | None:
    # The located tree is freed here, before the collector runs again: it would have to
    # look through every value of it once more, for nothing.
    root = read_yaml(path, reader, limits)
    return None if root is None else _compile(path, root, reader, actions, limits)


def read_yaml(path: Path, reader: Reader, limits: YamlLimits | None = None) -> Located | None:
    """Parse one YAML file into a located tree; syntax errors and files past ``limits``
    (size, nesting, alias expansion: see ``bounded_yaml``) become problems."""
    name = str(path)
    limits = limits or YamlLimits()
    try:
        text = read_bounded(path, limits)
        root = compose(text, limits, name)
    except YamlLimitExceeded as exc:
        reader.error(SourcePosition(name, exc.line, exc.column), exc.message)
        return None
    except OSError as exc:
        reader.error(SourcePosition(name, 1, 1), f"cannot read file: {exc.strerror or exc}")
        return None
    except UnicodeDecodeError as exc:
        reader.error(SourcePosition(name, 1, 1), f"not UTF-8 text: {exc.reason}")
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = SourcePosition(name, mark.line + 1, mark.column + 1) if mark else _top(name)
        message = f"YAML syntax: {exc.problem or exc.context}"
        said = f"{exc.problem} {exc.context}"
        if "alias" in said or "anchor" in said:
            message += ' (keypad keys "*" and "#" must be quoted)'
        reader.error(pos, message)
        return None
    except yaml.YAMLError as exc:
        reader.error(_top(name), f"YAML: {exc}")
        return None
    if root is None:
        reader.error(_top(name), "the file is empty")
    return root


def _top(name: str) -> SourcePosition:
    return SourcePosition(name, 1, 1)


def load_catalog(
    path: Path, languages: tuple[str, ...], reader: Reader, limits: YamlLimits | None = None
) -> Catalog | None:
    """Read ``prompts.yaml``: ``id: {en: text, zh: text}``; each language must be there
    and say the same placeholders. None if the file could not be read at all."""
    root = read_yaml(path, reader, limits)
    if root is None or not isinstance(root, Map):
        if root is not None:
            reader.error(root.pos, "the prompt catalog must map prompt ids to texts")
        return None
    texts: dict[str, dict[str, str]] = {}
    for prompt_id, (key, value) in reader.mapping(root, "the prompt catalog").items():
        what = f"prompt '{prompt_id}'"
        fields = reader.fields(value, what, languages)
        by_language = {lang: fields.text(lang) for lang in languages if fields.has(lang)}
        for lang in languages:
            if lang not in by_language:
                reader.error(key.pos, f"{what} has no '{lang}' text")
            elif not by_language[lang].strip():
                reader.error(fields.position(lang), f"{what}: the '{lang}' text is empty")
        names = {lang: sorted(set(placeholders(t))) for lang, t in by_language.items()}
        if len({tuple(n) for n in names.values()}) > 1:
            detail = "; ".join(f"{lang}: {n or 'none'}" for lang, n in names.items())
            reader.error(key.pos, f"{what}: languages use different placeholders ({detail})")
        texts[prompt_id] = by_language
    return Catalog(texts)


def _compile(
    path: Path,
    root: Located,
    reader: Reader,
    actions: Mapping[str, model.ActionSpec],
    limits: YamlLimits | None = None,
) -> model.Flow | None:
    top = reader.fields(root, "the flow file", (*TOP_LEVEL, *SECTIONS), ("start", "nodes"))
    if top.has("version") and top.text("version") != "1":
        reader.error(top.position("version"), "only version 1 of the flow format exists")
    languages = top.texts("languages") or ("en", "zh")
    timezone = _timezone(reader, top)
    catalog_path = path.parent / top.text("prompts", "prompts/prompts.yaml")
    catalog = load_catalog(catalog_path, languages, reader, limits)
    defaults, defaults_fields = _defaults(reader, top.raw("defaults"), languages)
    queues, queue_targets = _queues(reader, top)
    index = SourceIndex()
    compiler = NodeCompiler(reader, defaults, queues, index)
    nodes: dict[str, model.Node] = {}
    for node_id, (_, value) in top.table("nodes").items():
        node = compile_node(compiler, node_id, value)
        if node is not None:
            nodes[node_id] = node
            _check_languages(reader, node, languages)
        nodes.update(compiler.parts)  # a survey's parts, after it
        compiler.parts.clear()
    start = top.text("start")
    checker = GraphChecker(reader, index, nodes)
    if start and start not in index.nodes:
        hint = suggestion(start, index.nodes)
        reader.error(top.position("start"), f"start '{start}' is not a node{hint}")
    _check_defaults(reader, defaults_fields, index, catalog)
    checker.targets()
    check_queue_targets(reader, queues, queue_targets, index.nodes)
    if start:
        reached = checker.reachable(start)
        checker.unreachable(reached)
        checker.endings(reached)
        checker.loops(reached)
    names = NameChecker(reader, index, nodes, actions)
    names.secure_digits()
    names.registered(queues)
    complaints = _complaints(reader, top, timezone)
    if catalog is not None:
        names.prompt_uses(catalog)
    if reader.problems:
        return None
    return model.Flow(
        source=str(path),
        start=start,
        languages=languages,
        default_language=defaults.language,
        nodes=nodes,
        catalog=catalog or Catalog(),
        queues=queues,
        actions=dict(actions),
        catalog_source=str(catalog_path),
        complaints=complaints,
        timezone=timezone,
    )


def _timezone(reader: Reader, top: Fields) -> str:
    """The hotline's time zone (``timezone:``, an IANA name; UTC if absent)."""
    name = top.text("timezone", "UTC")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        reader.error(
            top.position("timezone"),
            f"timezone: unknown time zone '{name}' (an IANA name, e.g. Asia/Shanghai)",
        )
        return "UTC"
    return name


def _defaults(
    reader: Reader, raw: Located | None, languages: tuple[str, ...]
) -> tuple[Defaults, Fields]:
    f = reader.fields(raw or Scalar("", _top(""), True), "defaults", DEFAULT_KEYS)
    language = f.text("language", languages[0])
    if language not in languages:
        reader.error(f.position("language"), f"defaults: language '{language}' is not listed")
    defaults = Defaults(
        language=language,
        timeout=f.duration("timeout", 5.0),
        retries=f.integer("retries", 2),
        invalid_prompt=f.text("invalid_prompt") or None,
        timeout_prompt=f.text("timeout_prompt") or None,
        on_error=f.text("on_error") or None,
        on_max_visits=f.text("on_max_visits") or None,
    )
    return defaults, f


def _check_defaults(reader: Reader, f: Fields, index: SourceIndex, catalog: Catalog | None) -> None:
    """The targets and prompts defaults name, checked once, at the value."""
    for name in ("on_error", "on_max_visits"):
        target = f.text(name) if f.has(name) else ""
        if target and target not in index.nodes:
            hint = suggestion(target, index.nodes)
            reader.error(
                f.position(name), f"defaults: {name} goes to '{target}', which is not a node{hint}"
            )
    for name in ("invalid_prompt", "timeout_prompt"):
        prompt = f.text(name) if f.has(name) else ""
        if prompt and catalog is not None and prompt not in catalog:
            hint = suggestion(prompt, catalog.texts)
            reader.error(
                f.position(name), f"defaults: prompt '{prompt}' is not in the catalog{hint}"
            )


def _queues(
    reader: Reader, top: Fields
) -> tuple[dict[str, model.QueueSpec], dict[str, dict[str, SourcePosition]]]:
    """The queues with their policies, and where each policy's node targets were written
    (checked once every node is known)."""
    out = {}
    targets = {}
    for name, (_, value) in top.table("queues").items():
        keys = ("priority", "skill", *QUEUE_KEYS, SERVICE_LEVEL)
        f = reader.fields(value, f"queue '{name}'", keys)
        policy = read_policy(f, model.QueuePolicy())
        out[name] = model.QueueSpec(
            name, f.integer("priority", 0), f.text("skill", name), policy, read_service_level(f)
        )
        targets[name] = target_positions(f)
    return out, targets


def _complaints(reader: Reader, top: Fields, timezone: str) -> ComplaintStandard:
    """The complaint-handling standard (``complaints:``; the defaults without one; its
    time zone the hotline's, ``timezone``, unless it names its own), and every node's
    ``complaint_category`` checked against its categories."""
    raw = top.raw("complaints")
    if raw is None:
        standard = ComplaintStandard(timezone=timezone)
    else:
        fields = reader.fields(raw, "complaints", COMPLAINT_KEYS)
        standard = read_standard(reader, fields)
        if not fields.has("timezone"):
            standard = replace(standard, timezone=timezone)
    check_categories(reader, standard, categories_set(top.raw("nodes")))
    return standard


def _check_languages(reader: Reader, node: model.Node, languages: tuple[str, ...]) -> None:
    if not isinstance(node, nodes.Language):
        return
    for code in (*node.choices.values(), node.default):
        if code not in languages:
            reader.error(node.position, f"node '{node.id}': language '{code}' is not listed")
