"""Python's cyclic garbage collector held off while a flow is loaded.

Loading makes a few objects per YAML value and frees almost none of them until the end, so
every collection the allocations trigger finds nothing to free, yet scans everything made so
far: three quarters of the time a 20,000-node flow took to load went to it. What a load
makes holds no reference cycles (the few a parser or an exception leaves are collected once
the collector runs again), and the file it reads is bounded (``bounded_yaml.YamlLimits``), so
holding the collector off for one load costs little memory and only for that long.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0  # loads in progress, in every thread
_was_enabled = False  # whether the collector ran before the first of them


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold the cyclic collector off inside the block; it runs again once the last block
    that paused it (in any thread) is left, however it was left, unless it was off before
    the first one began."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
