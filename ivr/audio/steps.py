"""Playback steps: how a channel that plays files (Asterisk) speaks one prompt.

A step that speaks a secret (a callback code's digits, or a file that is one of them) is
marked ``secret``: a driver plays it but logs only a redacted form."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlayFile:
    """A rendered audio file, named without extension relative to the prompts folder,
    e.g. ``en/main_menu``."""

    name: str
    secret: bool = False


@dataclass(frozen=True)
class SayNumber:
    number: int
    secret: bool = False


@dataclass(frozen=True)
class SayDigits:
    digits: str
    secret: bool = False


Step = PlayFile | SayNumber | SayDigits
