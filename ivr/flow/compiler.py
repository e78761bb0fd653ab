"""Turns the located YAML tree of ``callflows.yaml`` into model nodes.

Every problem is collected (never raised) with its position; ``SourceIndex`` remembers
where each target and prompt was written so that ``checks.py`` can point at it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.errors import SourcePosition
from ivr.flow import model
from ivr.flow.located import Fields, Located, Map, Reader, Scalar
from ivr.flow.located import suggestion as _suggest

KEYPAD = set("0123456789*#")
COMMON = ("type", "set", "max_visits", "on_max_visits")
ASKING = ("prompt", "timeout", "retries", "invalid_prompt", "timeout_prompt")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Defaults:
    language: str
    timeout: float
    retries: int
    invalid_prompt: str | None
    timeout_prompt: str | None
    on_error: str | None
    on_max_visits: str | None


@dataclass
class SourceIndex:
    """Where things were written: node positions, each target and prompt use."""

    nodes: dict[str, SourcePosition] = field(default_factory=dict)
    targets: dict[tuple[str, str], SourcePosition] = field(default_factory=dict)
    prompts: list[tuple[str, str, SourcePosition]] = field(default_factory=list)
    queues: list[tuple[str, str, SourcePosition]] = field(default_factory=list)
    actions: list[tuple[str, str, SourcePosition]] = field(default_factory=list)


@dataclass
class NodeCompiler:
    reader: Reader
    defaults: Defaults
    queues: Mapping[str, model.QueueSpec]
    index: SourceIndex

    def compile(self, node_id: str, value: Located) -> model.Node | None:
        where = f"node '{node_id}'"
        self.index.nodes[node_id] = value.pos
        if not isinstance(value, Map):
            self.reader.error(value.pos, f"{where} must be a mapping with a 'type'")
            return None
        kind_value = next((v for k, v in value.pairs if k.value == "type"), None)
        kinds = ", ".join(BUILDERS)
        if not isinstance(kind_value, Scalar) or kind_value.is_null:
            pos = value.pos if kind_value is None else kind_value.pos
            self.reader.error(pos, f"{where} needs 'type' (one of {kinds})")
            return None
        spec = BUILDERS.get(kind_value.value)
        if spec is None:
            hint = _suggest(kind_value.value, BUILDERS)
            self.reader.error(
                kind_value.pos, f"{where}: unknown type '{kind_value.value}'{hint}"
            )
            return None
        allowed, required, build = spec
        what = f"{kind_value.value} {where}"
        fields = self.reader.fields(value, what, (*COMMON, *allowed), required)
        return build(self, node_id, fields, self._common(node_id, fields))

    # -- pieces shared by node kinds ---------------------------------------------------

    def _common(self, node_id: str, f: Fields) -> dict[str, object]:
        values = {k: _text_of(v, self.reader, k) for k, (_, v) in f.table("set").items()}
        max_visits = f.integer("max_visits", 0, minimum=1) if f.has("max_visits") else None
        on_max = None
        if max_visits is not None:
            on_max = self.target(node_id, f, "on_max_visits", self.defaults.on_max_visits)
            if not on_max:
                self.reader.error(
                    f.position("max_visits"),
                    f"node '{node_id}' has max_visits but no on_max_visits "
                    "(and defaults has none)",
                )
        return {
            "id": node_id,
            "position": f.pos,
            "set": values,
            "max_visits": max_visits,
            "on_max_visits": on_max,
        }

    def target(self, node_id: str, f: Fields, name: str, default: str | None = None) -> str:
        if not f.has(name):
            if default:
                self.index.targets.setdefault((node_id, name), f.pos)
            return default or ""
        value = f.text(name)
        self.index.targets[(node_id, name)] = f.position(name)
        return value

    def prompts(self, node_id: str, f: Fields, name: str = "prompt") -> tuple[str, ...]:
        ids = f.texts(name)
        for prompt_id in ids:
            self.index.prompts.append((prompt_id, node_id, f.position(name)))
        return ids

    def prompt(self, node_id: str, f: Fields, name: str, default: str | None) -> str | None:
        if f.has(name):
            ids = self.prompts(node_id, f, name)
            return ids[0] if ids else None
        if default:
            self.index.prompts.append((default, node_id, f.pos))
        return default

    def asking(self, node_id: str, f: Fields) -> dict[str, object]:
        d = self.defaults
        return {
            "prompts": self.prompts(node_id, f),
            "timeout": f.duration("timeout", d.timeout),
            "retries": f.integer("retries", d.retries),
            "invalid_prompt": self.prompt(node_id, f, "invalid_prompt", d.invalid_prompt),
            "timeout_prompt": self.prompt(node_id, f, "timeout_prompt", d.timeout_prompt),
        }

    def keys(self, f: Fields, name: str) -> dict[str, tuple[str, SourcePosition]]:
        out = {}
        for key, (key_node, value) in f.table(name).items():
            if len(key) != 1 or key not in KEYPAD:
                self.reader.error(
                    key_node.pos, f"'{key}' in {f.what} is not a keypad key (0-9, \"*\", \"#\")"
                )
                continue
            out[key] = (_text_of(value, self.reader, name), value.pos)
        if f.has(name) and not out:
            self.reader.error(f.position(name), f"{f.what} has no valid '{name}'")
        return out

    def key_targets(self, node_id: str, f: Fields, name: str, label: str) -> dict[str, str]:
        out = {}
        for key, (target, pos) in self.keys(f, name).items():
            out[key] = target
            if target != model.REPEAT:
                self.index.targets[(node_id, f"{label} {key}")] = pos
        return out


def _text_of(value: Located, reader: Reader, name: str) -> str:
    if isinstance(value, Scalar) and not value.is_null:
        return value.value
    reader.error(value.pos, f"'{name}' values must be texts")
    return ""


# -- builders, one per node kind ---------------------------------------------------------


def _menu(c: NodeCompiler, nid: str, f: Fields, common: dict[str, object]) -> model.Node:
    return model.Menu(
        **common,  # type: ignore[arg-type]
        **c.asking(nid, f),  # type: ignore[arg-type]
        choices=c.key_targets(nid, f, "choices", "choice"),
        on_failure=c.target(nid, f, "on_failure"),
    )


def _say(c: NodeCompiler, nid: str, f: Fields, common: dict[str, object]) -> model.Node:
    return model.Say(**common, prompts=c.prompts(nid, f), next=c.target(nid, f, "next"))  # type: ignore[arg-type]


def _gather(c: NodeCompiler, nid: str, f: Fields, common: dict[str, object]) -> model.Node:
    low = f.integer("min_digits", 1, minimum=1)
    high = f.integer("max_digits", max(low, 20), minimum=1)
    if high < low:
        c.reader.error(f.position("max_digits"), f"{f.what}: max_digits is below min_digits")
    finish = f.text("finish_key") if f.has("finish_key") else None
    if finish is not None and finish not in ("#", "*"):
        c.reader.error(f.position("finish_key"), f"{f.what}: finish_key must be \"#\" or \"*\"")
    return model.Gather(
        **common,  # type: ignore[arg-type]
        **c.asking(nid, f),  # type: ignore[arg-type]
        min_digits=low,
        max_digits=high,
        finish_key=finish,
        save_as=f.text("save_as"),
        secure=f.boolean("secure", False),
        next=c.target(nid, f, "next"),
        on_failure=c.target(nid, f, "on_failure"),
    )


def _verify(c: NodeCompiler, nid: str, f: Fields, common: dict[str, object]) -> model.Node:
    c.index.actions.append((model.VERIFY_ACTION, nid, f.pos))
    return model.Verify(
        **common,  # type: ignore[arg-type]
        account=f.text("account", "account_number"),
        pin=f.text("pin", "pin"),
        attempts=f.integer("attempts", 3, minimum=1),
        retry=c.target(nid, f, "retry"),
        retry_prompt=c.prompt(nid, f, "retry_prompt", None),
        on_success=c.target(nid, f, "on_success"),
        on_failure=c.target(nid, f, "on_failure"),
        on_locked=c.target(nid, f, "on_locked"),
        on_error=c.target(nid, f, "on_error", c.defaults.on_error),
    )


def _action(c: NodeCompiler, nid: str, f: Fields, common: dict[str, object]) -> model.Node:
    name = f.text("action")
    if name:
        c.index.actions.append((name, nid, f.position("action")))
    outcomes = {}
    for outcome, (key, value) in f.table("outcomes").items():
        outcomes[outcome] = _text_of(value, c.reader, "outcomes")
        c.index.targets[(nid, f"outcome {outcome}")] = value.pos
        c.index.targets.setdefault((nid, f"outcome-key {outcome}"), key.pos)
    return model.Action(
        **common,  # type: ignore[arg-type]
        action=name,
        outcomes=outcomes,
        on_error=c.target(nid, f, "on_error", c.defaults.on_error),
    )


def _branch(c: NodeCompiler, nid: str, f: Fields, common: dict[str, object]) -> model.Node:
    cases = {}
    for case, (_, value) in f.table("cases").items():
        cases[case] = _text_of(value, c.reader, "cases")
        c.index.targets[(nid, f"case {case}")] = value.pos
    return model.Branch(
        **common,  # type: ignore[arg-type]
        var=f.text("var"),
        cases=cases,
        default=c.target(nid, f, "default"),
    )


def _language(c: NodeCompiler, nid: str, f: Fields, common: dict[str, object]) -> model.Node:
    choices = {k: v for k, (v, _) in c.keys(f, "choices").items()}
    return model.Language(
        **common,  # type: ignore[arg-type]
        **c.asking(nid, f),  # type: ignore[arg-type]
        choices=choices,
        default=f.text("default", c.defaults.language),
        next=c.target(nid, f, "next"),
    )


def _hours(c: NodeCompiler, nid: str, f: Fields, common: dict[str, object]) -> model.Node:
    name = f.text("timezone", "UTC")
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        c.reader.error(f.position("timezone"), f"{f.what}: unknown time zone '{name}'")
        zone = ZoneInfo("UTC")
    spans = []
    for days, (key, value) in f.table("open").items():
        span_text = _text_of(value, c.reader, "open")
        try:
            weekdays = _days(days)
        except ValueError as exc:
            c.reader.error(key.pos, f"{f.what}: {exc}")
            continue
        try:
            start, end = _times(span_text)
        except ValueError as exc:
            c.reader.error(value.pos, f"{f.what}: {exc}")
            continue
        spans.extend(model.OpenSpan(day, start, end) for day in weekdays)
    holidays = set()
    for text in f.texts("holidays"):
        try:
            holidays.add(date.fromisoformat(text).isoformat())
        except ValueError:
            c.reader.error(f.position("holidays"), f"{f.what}: '{text}' is not a YYYY-MM-DD date")
    closed = c.target(nid, f, "on_closed")
    return model.Hours(
        **common,  # type: ignore[arg-type]
        timezone=name,
        zone=zone,
        open=tuple(spans),
        holidays=frozenset(holidays),
        on_open=c.target(nid, f, "on_open"),
        on_closed=closed,
        on_holiday=c.target(nid, f, "on_holiday", closed),
    )


def _days(text: str) -> list[int]:
    out: list[int] = []
    for part in text.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"'{text}' is not a day or day range like mon-fri")
        a, b = DAYS.index(first), DAYS.index(last or first)
        out.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return out


def _times(text: str) -> tuple[int, int]:
    try:
        first, last = text.replace(" ", "").split("-")
        start, end = _minute(first), _minute(last)
    except ValueError:
        raise ValueError(f"'{text}' is not a time range like \"09:00-18:00\"") from None
    if end <= start:
        raise ValueError(f"'{text}' ends before it starts (split ranges that cross midnight)")
    return start, end


def _minute(text: str) -> int:
    hours, minutes = text.split(":")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise ValueError(text)
    return h * 60 + m


def _queue(c: NodeCompiler, nid: str, f: Fields, common: dict[str, object]) -> model.Node:
    name = f.text("queue")
    c.index.queues.append((name, nid, f.position("queue")))
    spec = c.queues.get(name)
    callback = f.text("callback", "offer")
    if callback not in model.CALLBACK_MODES:
        c.reader.error(
            f.position("callback"), f"{f.what}: callback must be one of offer, only, never"
        )
    return model.Queue(
        **common,  # type: ignore[arg-type]
        queue=name,
        priority=f.integer("priority", spec.priority if spec else 0),
        skill=f.text("skill", spec.skill if spec else name),
        callback=callback,
        prompts=c.prompts(nid, f),
    )


def _transfer(c: NodeCompiler, nid: str, f: Fields, common: dict[str, object]) -> model.Node:
    return model.Transfer(**common, to=f.text("to"), prompts=c.prompts(nid, f))  # type: ignore[arg-type]


def _hangup(c: NodeCompiler, nid: str, f: Fields, common: dict[str, object]) -> model.Node:
    outcome = f.text("outcome", "solved")
    return model.Hangup(**common, outcome=outcome, prompts=c.prompts(nid, f))  # type: ignore[arg-type]


Builder = Callable[[NodeCompiler, str, Fields, dict[str, object]], model.Node]
BUILDERS: dict[str, tuple[tuple[str, ...], tuple[str, ...], Builder]] = {
    "menu": (ASKING, ("prompt", "choices", "on_failure"), _menu),
    "say": ((), ("prompt", "next"), _say),
    "gather": (
        (*ASKING, "min_digits", "max_digits", "finish_key", "secure"),
        ("prompt", "save_as", "next", "on_failure"),
        _gather,
    ),
    "verify": (
        ("account", "pin", "attempts", "retry_prompt", "on_error"),
        ("retry", "on_success", "on_failure", "on_locked"),
        _verify,
    ),
    "action": (("on_error",), ("action", "outcomes"), _action),
    "branch": ((), ("var", "cases", "default"), _branch),
    "language": ((*ASKING, "default"), ("prompt", "choices", "next"), _language),
    "hours": (("holidays", "on_holiday"), ("timezone", "open", "on_open", "on_closed"), _hours),
    "queue": (("priority", "skill", "callback", "prompt"), ("queue",), _queue),
    "transfer": (("prompt",), ("to",), _transfer),
    "hangup": (("prompt", "outcome"), (), _hangup),
}
