"""Which rendered prompts exist: what a Twilio reply asks of every prompt it speaks
(``<Play>`` of the file when there is one, else ``<Say>``).

Asked with a ``stat`` each time, that was two or three system calls a webhook, each a
hand-over of the interpreter lock among the web threads. ``PromptFiles`` lists the
folder instead, and lists it again when it is ``fresh_for`` seconds old, or when the
folder itself changes (another flow's): a prompt rendered while the server runs (``ivr
prompts build``) is played from then on, a removed one said instead, within that time.
A listing is bounded (``MOST`` files); past it the rest are asked for one by one.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: Files a listing holds at most (a prompts folder holds a few hundred).
MOST = 20_000
SUFFIX = ".wav"


@dataclass(frozen=True)
class _Listing:
    root: str
    names: frozenset[str]
    complete: bool  # False: the folder held more than MOST files
    until: float


class PromptFiles:
    """``has(name)``: whether ``<root>/<name>.wav`` exists, from a listing of ``root()``
    at most ``fresh_for`` seconds old (``clock``: seconds, monotonic)."""

    def __init__(
        self,
        root: Callable[[], str],
        fresh_for: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root, self.fresh_for, self.clock = root, fresh_for, clock
        self._listing: _Listing | None = None
        self._listing_lock = threading.Lock()  # one thread lists; the others use the last

    def has(self, name: str) -> bool:
        root = self.root()
        listing = self._listing
        if listing is None or listing.root != root or self.clock() >= listing.until:
            listing = self._relisted(root, listing)
        if name in listing.names:
            return True
        return not listing.complete and os.path.isfile(f"{root}/{name}{SUFFIX}")

    def _relisted(self, root: str, last: _Listing | None) -> _Listing:
        if not self._listing_lock.acquire(blocking=last is None or last.root != root):
            assert last is not None
            return last  # another thread is listing it now: the last listing meanwhile
        try:
            names, complete = _wav_names(root)
            listing = _Listing(root, names, complete, self.clock() + self.fresh_for)
            self._listing = listing
            return listing
        finally:
            self._listing_lock.release()


def _wav_names(root: str) -> tuple[frozenset[str], bool]:
    """The ``.wav`` files under ``root`` as names relative to it without the suffix
    (``en/menu``), and whether that is all of them (False past ``MOST`` files or
    folders: a link that loops is followed that far)."""
    names: set[str] = set()
    folders = [""]
    listed = 0
    while folders:
        folder = folders.pop()
        listed += 1
        if listed > MOST:
            return frozenset(names), False
        try:
            entries = list(os.scandir(f"{root}/{folder}" if folder else root))
        except OSError:  # not there (nothing rendered yet), or gone meanwhile
            continue
        for entry in entries:
            relative = f"{folder}/{entry.name}" if folder else entry.name
            try:
                if entry.is_dir():
                    folders.append(relative)
                elif entry.name.endswith(SUFFIX) and entry.is_file():
                    names.add(relative.removesuffix(SUFFIX))
            except OSError:
                continue
            if len(names) >= MOST:
                return frozenset(names), False
    return frozenset(names), True
