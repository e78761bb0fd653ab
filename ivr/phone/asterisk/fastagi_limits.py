"""What a FastAGI peer can make the server hold (a peer that tries more gets ``OverLimit``).

Asterisk sends an environment of about 25 short lines at once, then one short reply per
command; these limits are far above that and far below what would hurt the server. The
calls and the connections still sending their environment are capped separately (see
``ivr.phone.asterisk.fastagi_intake``), and the open-file limit is raised, or the cap on waiting
connections lowered, so that every socket the caps allow can be opened.
"""

from __future__ import annotations

import logging
import resource
from dataclasses import dataclass, replace
from typing import Protocol

from ivr.phone.asterisk.agi_protocol import (
    MAX_ENVIRONMENT_BYTES,
    MAX_ENVIRONMENT_LINES,
    MAX_LINE_BYTES,
)

logger = logging.getLogger(__name__)

#: Files the process needs besides the FastAGI sockets (database, flow, prompts, logs).
RESERVED_FILES = 256
#: ``IVR_FASTAGI_MAX_CALLS`` and ``IVR_FASTAGI_MAX_PENDING`` when unset.
DEFAULT_MAX_CALLS = 256
DEFAULT_MAX_PENDING = 4000


class CapSettings(Protocol):
    """The two caps of the process's settings (``ivr.app.config.Settings`` has them)."""

    @property
    def fastagi_max_calls(self) -> int: ...

    @property
    def fastagi_max_pending(self) -> int: ...


@dataclass(frozen=True)
class FastAgiLimits:
    """Bytes, lines, seconds and connections; ``from_settings`` takes the two caps from
    settings that read ``IVR_FASTAGI_MAX_CALLS`` and ``IVR_FASTAGI_MAX_PENDING``."""

    #: One line from the peer (an environment line or a reply), newline included.
    max_line: int = MAX_LINE_BYTES
    #: The whole environment block, and its number of lines.
    max_environment: int = MAX_ENVIRONMENT_BYTES
    max_environment_lines: int = MAX_ENVIRONMENT_LINES
    #: From accepting the connection to the environment's blank line.
    environment_deadline: float = 10.0
    #: Silence allowed between two reads while the environment arrives.
    read_timeout: float = 5.0
    #: During a call, from the first byte of a reply line to its newline.
    line_deadline: float = 10.0
    #: Calls served at once (each holds a thread), and connections still sending their
    #: environment (these hold a socket, no thread).
    max_calls: int = DEFAULT_MAX_CALLS
    max_pending: int = DEFAULT_MAX_PENDING

    @classmethod
    def from_settings(cls, settings: CapSettings) -> FastAgiLimits:
        return cls(max_calls=settings.fastagi_max_calls, max_pending=settings.fastagi_max_pending)


def fit_open_files(limits: FastAgiLimits) -> FastAgiLimits:
    """``limits``, with the soft ``RLIMIT_NOFILE`` raised (up to the hard limit) so that
    every socket they allow can be opened; if it cannot be raised enough, fewer waiting
    connections (logged)."""
    need = limits.max_pending + limits.max_calls + RESERVED_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(hard, need)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            logger.warning("FastAGI: cannot raise the open-file limit to %d: %s", target, exc)
    if soft == resource.RLIM_INFINITY or soft >= need:
        return limits
    pending = max(16, soft - limits.max_calls - RESERVED_FILES)
    logger.warning(
        "FastAGI: %d open files allowed (RLIMIT_NOFILE): at most %d connections waiting "
        "for their environment instead of %d",
        *(soft, pending, limits.max_pending),
    )
    return replace(limits, max_pending=pending)
