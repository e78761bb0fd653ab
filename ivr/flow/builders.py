"""One builder per node kind: YAML fields in, model node out (problems collected)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.flow import model, nodes, survey_parts
from ivr.flow.compiler import ASKING, Common, NodeCompiler, text_of
from ivr.flow.hours import parse_days, parse_span
from ivr.flow.located import Fields
from ivr.flow.queue_policy import NODE_KEYS, read_policy, target_positions


def _menu(c: NodeCompiler, nid: str, f: Fields, common: Common) -> model.Node:
    return nodes.Menu(
        **common,
        **c.asking(nid, f),
        choices=c.key_targets(nid, f, "choices", "choice"),
        on_failure=c.target(nid, f, "on_failure"),
    )


def _say(c: NodeCompiler, nid: str, f: Fields, common: Common) -> model.Node:
    return nodes.Say(**common, prompts=c.prompts(nid, f), next=c.target(nid, f, "next"))


def _gather(c: NodeCompiler, nid: str, f: Fields, common: Common) -> model.Node:
    low = f.integer("min_digits", 1, minimum=1)
    high = f.integer("max_digits", max(low, 20), minimum=1)
    if high < low:
        c.reader.error(f.position("max_digits"), f"{f.what}: max_digits is below min_digits")
    finish = f.text("finish_key") if f.has("finish_key") else None
    if finish is not None and finish not in ("#", "*"):
        c.reader.error(f.position("finish_key"), f'{f.what}: finish_key must be "#" or "*"')
    return nodes.Gather(
        **common,
        **c.asking(nid, f),
        min_digits=low,
        max_digits=high,
        finish_key=finish,
        save_as=f.text("save_as"),
        secure=f.boolean("secure", False),
        next=c.target(nid, f, "next"),
        on_failure=c.target(nid, f, "on_failure"),
    )


def _verify(c: NodeCompiler, nid: str, f: Fields, common: Common) -> model.Node:
    c.index.actions.append((model.VERIFY_ACTION, nid, f.pos))
    failure = c.target(nid, f, "on_failure")
    return nodes.Verify(
        **common,
        account=f.text("account", "account_number"),
        pin=f.text("pin", "pin"),
        attempts=f.integer("attempts", 3, minimum=1),
        retry=c.target(nid, f, "retry"),
        retry_prompt=c.prompt(nid, f, "retry_prompt", None),
        on_success=c.target(nid, f, "on_success"),
        on_failure=failure,
        on_locked=c.target(nid, f, "on_locked"),
        on_error=c.fallback(nid, f, "on_error", c.defaults.on_error),
        on_closed=c.target(nid, f, "on_closed") if f.has("on_closed") else failure,
    )


def _action(c: NodeCompiler, nid: str, f: Fields, common: Common) -> model.Node:
    name = f.text("action")
    if name:
        c.index.actions.append((name, nid, f.position("action")))
    outcomes = {}
    for outcome, (key, value) in f.table("outcomes").items():
        outcomes[outcome] = text_of(value, c.reader, "outcomes")
        c.index.targets[(nid, f"outcome {outcome}")] = value.pos
        c.index.targets.setdefault((nid, f"outcome-key {outcome}"), key.pos)
    return nodes.Action(
        **common,
        action=name,
        outcomes=outcomes,
        on_error=c.fallback(nid, f, "on_error", c.defaults.on_error),
    )


def _branch(c: NodeCompiler, nid: str, f: Fields, common: Common) -> model.Node:
    cases = {}
    for case, (_, value) in f.table("cases").items():
        cases[case] = text_of(value, c.reader, "cases")
        c.index.targets[(nid, f"case {case}")] = value.pos
    return nodes.Branch(
        **common,
        var=f.text("var"),
        cases=cases,
        default=c.target(nid, f, "default"),
    )


def _language(c: NodeCompiler, nid: str, f: Fields, common: Common) -> model.Node:
    choices = {k: v for k, (v, _) in c.keys(f, "choices").items()}
    return nodes.Language(
        **common,
        **c.asking(nid, f),
        choices=choices,
        default=f.text("default", c.defaults.language),
        next=c.target(nid, f, "next"),
    )


def _hours(c: NodeCompiler, nid: str, f: Fields, common: Common) -> model.Node:
    name = f.text("timezone", "UTC")
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        c.reader.error(f.position("timezone"), f"{f.what}: unknown time zone '{name}'")
        zone = ZoneInfo("UTC")
    spans: list[nodes.OpenSpan] = []
    for days, (key, value) in f.table("open").items():
        span_text = text_of(value, c.reader, "open")
        try:
            weekdays = parse_days(days)
        except ValueError as exc:
            c.reader.error(key.pos, f"{f.what}: {exc}")
            continue
        try:
            start, end = parse_span(span_text)
        except ValueError as exc:
            c.reader.error(value.pos, f"{f.what}: {exc}")
            continue
        spans.extend(nodes.OpenSpan(day, start, end) for day in weekdays)
    holidays = set()
    for text, pos in f.texts_at("holidays"):
        try:
            holidays.add(date.fromisoformat(text).isoformat())
        except ValueError:
            c.reader.error(pos, f"{f.what}: '{text}' is not a YYYY-MM-DD date")
    closed = c.target(nid, f, "on_closed")
    return nodes.Hours(
        **common,
        timezone=name,
        zone=zone,
        open=tuple(spans),
        holidays=frozenset(holidays),
        on_open=c.target(nid, f, "on_open"),
        on_closed=closed,
        on_holiday=c.target(nid, f, "on_holiday", closed),
    )


def _queue(c: NodeCompiler, nid: str, f: Fields, common: Common) -> model.Node:
    name = f.text("queue")
    c.index.queues.append((name, nid, f.position("queue")))
    spec = c.queues.get(name)
    callback = f.text("callback", "offer")
    if callback not in model.CALLBACK_MODES:
        c.reader.error(
            f.position("callback"), f"{f.what}: callback must be one of offer, only, never"
        )
    policy = read_policy(f, spec.policy if spec else model.QueuePolicy())
    own = target_positions(f)
    for key, _ in policy.targets():
        if key in own:
            c.index.targets[(nid, key)] = own[key]
        else:
            c.index.defaulted.add((nid, key))  # the queue's, checked once at ``queues:``
    return nodes.Queue(
        **common,
        queue=name,
        priority=f.integer("priority", spec.priority if spec else 0),
        skill=f.text("skill", spec.skill if spec else name),
        callback=callback,
        prompts=c.prompts(nid, f),
        policy=policy,
    )


def _transfer(c: NodeCompiler, nid: str, f: Fields, common: Common) -> model.Node:
    return nodes.Transfer(**common, to=f.text("to"), prompts=c.prompts(nid, f))


def _hangup(c: NodeCompiler, nid: str, f: Fields, common: Common) -> model.Node:
    outcome = f.text("outcome", "solved")
    return nodes.Hangup(**common, outcome=outcome, prompts=c.prompts(nid, f))


#: The longest recording a ``record`` node may ask for, in seconds.
MAX_RECORD_SECONDS = 300


def _seconds(c: NodeCompiler, f: Fields, default: int) -> int:
    seconds = f.integer("max_seconds", default, minimum=1)
    if seconds > MAX_RECORD_SECONDS:
        c.reader.error(
            f.position("max_seconds"),
            f"{f.what}: max_seconds must be from 1 to {MAX_RECORD_SECONDS}",
        )
    return min(seconds, MAX_RECORD_SECONDS)


def _record(c: NodeCompiler, nid: str, f: Fields, common: Common) -> model.Node:
    return nodes.Record(
        **common,
        prompts=c.prompts(nid, f),
        max_seconds=_seconds(c, f, 60),
        save_as=f.text("save_as"),
        next=c.target(nid, f, "next"),
        on_failure=c.target(nid, f, "on_failure"),
    )


def _survey(c: NodeCompiler, nid: str, f: Fields, common: Common) -> model.Node:
    sample = f.fraction("sample", 1.0)
    comment = c.prompt(nid, f, "comment_prompt", None)
    recording = c.prompt(nid, f, "record_prompt", None)
    if comment and not recording:
        c.reader.error(f.pos, f"{f.what}: a comment_prompt needs a record_prompt")
    asking = c.asking(nid, f)
    after = survey_parts.part(nid, "comment" if comment else "save")
    following = c.target(nid, f, "next")
    thanks = c.prompts(nid, f, "thanks_prompt")
    for node in survey_parts.parts_of(
        nid,
        f.pos,
        comment,
        recording,
        thanks[0] if thanks else "",
        _seconds(c, f, 60),
        following,
        asking["timeout"],
    ):
        c.add_part(node, f)
    return nodes.Survey(
        **common,
        **asking,
        sample=sample,
        skip_reasons=frozenset(f.texts("skip_reasons")),
        after=after,
        next=following,
    )


Builder = Callable[[NodeCompiler, str, Fields, Common], model.Node]
BUILDERS: dict[str, tuple[tuple[str, ...], tuple[str, ...], Builder]] = {
    "menu": (ASKING, ("prompt", "choices", "on_failure"), _menu),
    "say": ((), ("prompt", "next"), _say),
    "gather": (
        (*ASKING, "min_digits", "max_digits", "finish_key", "secure"),
        ("prompt", "save_as", "next", "on_failure"),
        _gather,
    ),
    "verify": (
        ("account", "pin", "attempts", "retry_prompt", "on_error", "on_closed"),
        ("retry", "on_success", "on_failure", "on_locked"),
        _verify,
    ),
    "action": (("on_error",), ("action", "outcomes"), _action),
    "branch": ((), ("var", "cases", "default"), _branch),
    "language": ((*ASKING, "default"), ("prompt", "choices", "next"), _language),
    "hours": (("holidays", "on_holiday"), ("timezone", "open", "on_open", "on_closed"), _hours),
    "queue": (("priority", "skill", "callback", "prompt", *NODE_KEYS), ("queue",), _queue),
    "transfer": (("prompt",), ("to",), _transfer),
    "hangup": (("prompt", "outcome"), (), _hangup),
    "record": (("max_seconds",), ("prompt", "save_as", "next", "on_failure"), _record),
    "survey": (
        (*ASKING, "sample", "skip_reasons", "comment_prompt", "record_prompt", "max_seconds"),
        ("prompt", "thanks_prompt", "next"),
        _survey,
    ),
}
