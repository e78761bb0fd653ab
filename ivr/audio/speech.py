"""How a prompt is spoken on a channel that plays files: a list of playback steps."""

from __future__ import annotations

from ivr.audio.steps import PlayFile, Step
from ivr.flow.actions import Prompt


def steps(prompt: Prompt) -> list[Step]:
    """The steps that speak ``prompt``: its rendered file, in its language."""
    return [PlayFile(f"{prompt.language}/{prompt.id}")]
