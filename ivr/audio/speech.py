"""How a prompt is spoken on a channel that plays files: a list of playback steps (pure).

A catalog text without placeholders is one rendered file, ``<lang>/<id>``. A text with
placeholders is cut at them: each stretch of static text that has something to say is a
*segment*, rendered to ``<lang>/<id>.<n>`` (n = 1, 2, ... in order), and the values are
spoken between the segments (``ivr.audio.values``)::

    "Your most recent failed payment was {amount} to {merchant} on {date}."
    -> en/payment_failed_summary.1, <amount>, en/payment_failed_summary.2, <merchant>,
       en/payment_failed_summary.3, <date>          (the final "." says nothing)

``split`` is the one place that cuts a text, used both by the build (which files to
render) and by ``steps`` (which files to play), so the two always agree.

``steps`` needs the catalog text (the *template*) to know where the values were. Pass it
(``template=flow.catalog.text(prompt.id, prompt.language)``, or use ``speaker``); without
it the template is recovered from the filled text and the values, which works unless a
value is empty or does not appear in the text; then the whole filled text is rendered on
demand, or skipped with a warning when there is no renderer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from ivr.audio.steps import PlayFile, Step
from ivr.audio.values import Renderer, say
from ivr.flow.actions import Prompt
from ivr.flow.prompts import PLACEHOLDER, Catalog, placeholders

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Segment:
    """A stretch of static text, rendered to ``<id>.<number>``."""

    number: int
    text: str


@dataclass(frozen=True)
class Slot:
    """Where a value is spoken."""

    name: str


Part = Segment | Slot


def speakable(text: str) -> bool:
    """Whether a text has anything to say (a lone ``"."`` or ``"。"`` has not)."""
    return any(char.isalnum() for char in text)


def split(template: str) -> list[Part]:
    """Cut a catalog text at its placeholders; segments are numbered from 1, stripped, and
    only kept when speakable."""
    parts: list[Part] = []
    start = 0
    for match in [*PLACEHOLDER.finditer(template), None]:
        end = match.start() if match else len(template)
        text = template[start:end].strip()
        if speakable(text):
            parts.append(Segment(sum(isinstance(p, Segment) for p in parts) + 1, text))
        if match:
            parts.append(Slot(match.group(1)))
            start = match.end()
    return parts


def recordings(prompt_id: str, template: str) -> list[tuple[str, str]]:
    """The files a catalog text is rendered to, as (name without extension, text)."""
    if not placeholders(template):
        return [(prompt_id, template.strip())]
    return [(f"{prompt_id}.{p.number}", p.text) for p in split(template) if isinstance(p, Segment)]


def steps(
    prompt: Prompt, render_text: Renderer | None = None, *, template: str | None = None
) -> list[Step]:
    """The steps that speak ``prompt``. ``render_text(text, language)`` renders free-text
    values (a merchant's name) on demand; ``template`` is the prompt's catalog text."""
    if template is None:
        template = recover_template(prompt.text, prompt.values) if prompt.values else prompt.text
    if template is None:
        log.warning("prompt %s: cannot tell where its values go; rendering it whole", prompt.id)
        whole = render_text(prompt.text, prompt.language) if render_text else None
        return [replace(whole, secret=bool(prompt.secret))] if whole is not None else []
    if not placeholders(template):
        return [PlayFile(f"{prompt.language}/{prompt.id}")]
    out: list[Step] = []
    for part in split(template):
        if isinstance(part, Segment):
            out.append(PlayFile(f"{prompt.language}/{prompt.id}.{part.number}"))
        else:
            value = prompt.values.get(part.name, "")
            said = say(part.name, value, prompt.language, render_text)
            if part.name in prompt.secret:
                said = [replace(step, secret=True) for step in said]
            out.extend(said)
    return out


def speaker(
    catalog: Catalog, render_text: Renderer | None = None
) -> Callable[[Prompt], list[Step]]:
    """``steps`` with the template taken from the catalog: what a driver holds per flow."""

    def speak(prompt: Prompt) -> list[Step]:
        template = catalog.text(prompt.id, prompt.language)
        return steps(prompt, render_text, template=template)

    return speak


def recover_template(text: str, values: Mapping[str, str]) -> str | None:
    """Put the placeholders back into a filled text: each value, in the order the values
    were first used, is found left to right; after the last, a value used before may occur
    again (``{reference}... that's {reference}``). None when a value is empty or missing."""
    if not values or not all(values.values()):
        return None
    out, start = [], 0
    for name, value in values.items():
        found = text.find(value, start)
        if found < 0:
            return None
        out += [text[start:found], "{" + name + "}"]
        start = found + len(value)
    rest = text[start:]
    while True:
        hits = [(rest.find(v), -len(v), n) for n, v in values.items() if v in rest]
        if not hits:
            break
        found, minus_length, name = min(hits)
        out += [rest[:found], "{" + name + "}"]
        rest = rest[found - minus_length :]
    return "".join([*out, rest])
