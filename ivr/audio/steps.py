"""Playback steps: how a channel that plays files (Asterisk) speaks one prompt."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlayFile:
    """A rendered audio file, named without extension relative to the prompts folder,
    e.g. ``en/main_menu``."""

    name: str


@dataclass(frozen=True)
class SayNumber:
    number: int


@dataclass(frozen=True)
class SayDigits:
    digits: str


Step = PlayFile | SayNumber | SayDigits
