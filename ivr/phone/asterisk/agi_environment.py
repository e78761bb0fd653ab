"""The AGI environment: what Asterisk says about the call before the first command.

``key: value`` lines ended by a blank line (FastAGI puts ``agi_network: yes`` first), read
through a ``next_line`` callable (``readline`` of a text stream: ``""`` at end of input)
within the limits below.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import parse_qsl

from ivr.phone.asterisk.agi_errors import AgiPeerError, OverLimit

#: Asterisk's placeholder for an unset caller id field.
UNKNOWN = "unknown"
#: A longer environment (or usage block) than this is not Asterisk's (it sends about 25).
MAX_ENVIRONMENT_LINES = 512
#: One line from Asterisk (an environment line or a reply), newline included, in bytes.
MAX_LINE_BYTES = 8192
#: The whole environment block, in bytes (Asterisk's is about 1 KB).
MAX_ENVIRONMENT_BYTES = 65536

NextLine = Callable[[], str]


@dataclass(frozen=True)
class AgiEnvironment:
    """What Asterisk says about the call before the first command, in the order sent."""

    items: tuple[tuple[str, str], ...]

    @cached_property
    def values(self) -> dict[str, str]:
        return dict(self.items)

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.values.get(key, default)

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    def __contains__(self, key: object) -> bool:
        return key in self.values

    def _text(self, key: str) -> str:
        return self.values.get(key, "")

    @property
    def network(self) -> bool:
        """FastAGI (``agi_network: yes``) rather than a process Asterisk started."""
        return self._text("agi_network").lower() == "yes"

    @property
    def call_id(self) -> str:
        return self._text("agi_uniqueid")

    @property
    def caller_id(self) -> str:
        """The caller's number; ``""`` when Asterisk has none (``unknown``)."""
        return _known(self._text("agi_callerid"))

    @property
    def caller_name(self) -> str:
        return _known(self._text("agi_calleridname"))

    @property
    def dnid(self) -> str:
        return _known(self._text("agi_dnid"))

    @property
    def language(self) -> str:
        return self._text("agi_language")

    @property
    def channel(self) -> str:
        return self._text("agi_channel")

    @property
    def context(self) -> str:
        return self._text("agi_context")

    @property
    def extension(self) -> str:
        return self._text("agi_extension")

    @property
    def request(self) -> str:
        return self._text("agi_request")

    @property
    def args(self) -> tuple[str, ...]:
        """``agi_arg_1`` .. ``agi_arg_N``, in order of N."""
        numbered = []
        for key, value in self.items:
            number = key.removeprefix("agi_arg_")
            if number != key and number.isdigit():
                numbered.append((int(number), value))
        return tuple(value for _, value in sorted(numbered))

    @property
    def network_script(self) -> str:
        """Everything after ``host[:port]/`` of the ``agi://`` URL, query string included."""
        script = self._text("agi_network_script")
        if not script and self.request.startswith("agi://"):
            script = self.request.removeprefix("agi://").partition("/")[2]
        return script

    @property
    def script(self) -> str:
        """The script's path without its query string: ``hotline`` for ``hotline?x=1``."""
        return self.network_script.partition("?")[0].strip("/")

    @property
    def script_args(self) -> dict[str, str]:
        """The query string's arguments: ``{"x": "1"}`` for ``hotline?x=1``."""
        return dict(parse_qsl(self.network_script.partition("?")[2], keep_blank_values=True))


def _known(value: str) -> str:
    return "" if value.strip().lower() == UNKNOWN else value.strip()


_ENV_LINE = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_]*): ?(?P<value>.*)")


def parse_environment(lines: Iterable[str]) -> AgiEnvironment:
    """The environment from its lines (the blank line that ends it excluded). A value may
    hold ``:`` (only the first one separates)."""
    items = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        match = _ENV_LINE.fullmatch(line)
        if match is None:
            raise AgiPeerError("not an AGI environment line", raw)
        items.append((match["key"], match["value"]))
    return AgiEnvironment(tuple(items))


def read_environment(next_line: NextLine) -> AgiEnvironment:
    """Read the environment through its blank line; each line is checked as it comes,
    and the block may hold at most ``MAX_ENVIRONMENT_LINES`` lines and
    ``MAX_ENVIRONMENT_BYTES`` bytes (``next_line`` bounds a line's length)."""
    lines: list[str] = []
    size = 0
    while True:
        raw = next_line()
        if raw == "":
            raise AgiPeerError("the AGI environment ended before its blank line", "".join(lines))
        if raw.strip() == "":
            return parse_environment(lines)
        if len(lines) >= MAX_ENVIRONMENT_LINES:
            raise AgiPeerError("the AGI environment does not end", raw)
        size += len(raw.encode("utf-8", "replace"))
        if size > MAX_ENVIRONMENT_BYTES:
            raise OverLimit(f"an AGI environment of over {MAX_ENVIRONMENT_BYTES} bytes")
        if _ENV_LINE.fullmatch(raw.rstrip("\r\n")) is None:
            raise AgiPeerError("not an AGI environment line", raw)
        lines.append(raw)
