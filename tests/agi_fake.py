"""A scripted Asterisk for the AGI tests.

``FakeAsterisk`` answers AGI commands the way Asterisk 22 does in the transcripts under
``tests/fixtures/agi/`` (captured from a real one), for a caller who follows a script:

- a key (``0-9 * #``) is pressed during the next command that can hear it: a prompt with
  escape digits (barge-in) or ``WAIT FOR DIGIT``;
- ``t`` is silence until a ``WAIT FOR DIGIT`` times out (prompts play to their end);
- ``~`` listens: the next prompt with escape digits plays to its end (a caller who waits
  for the question instead of typing ahead during an announcement);
- ``h`` hangs up during the next command of any kind that plays or waits;
- when the script runs out, the caller hangs up at the next command that waits for keys.

How a hang-up reaches the script is the ``hangup`` style: ``process`` (SIGHUP, then
``result=-1``), ``fastagi`` (``result=-1``, then a ``HANGUP`` line before the next reply),
``nosighup`` (``result=-1`` only: AGISIGHUP=no), ``between`` (the caller left between two
commands: ``HANGUP`` then ``511``), ``dead`` (``511`` only), ``eof`` (the line closes).
After a hang-up every command that needs a live channel gets ``511``. ``missing`` files
play as ``result=-1`` on a live channel; ``interfere`` replaces chosen replies (garbage,
510, 520).

It is a pair of text streams (``readline``; ``write``/``flush``) for in-process tests, or
``talk_to(process)`` drives a real ``hotline.agi`` over its stdin and stdout.
"""

from __future__ import annotations

import subprocess
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "agi"
DEAD = "511 Command Not Permitted on a dead channel or intercept routine"
INVALID = "510 Invalid or unknown command"
USAGE = [
    "520-Invalid command syntax.  Proper usage follows:",
    "Send the given file, allowing playback to be interrupted by the given digits, if any.",
    "520 End of proper usage.",
]
HANGUP_STYLES = ("process", "fastagi", "nosighup", "between", "dead", "eof")
#: Commands Asterisk still runs on a dead channel (the rest get 511).
DEAD_OK = ("NOOP", "SET VARIABLE", "GET VARIABLE", "VERBOSE")
KEYS = frozenset("0123456789*#")
COMMANDS = frozenset(
    {"ANSWER", "NOOP", "HANGUP", "VERBOSE", "CHANNEL STATUS", "SET VARIABLE", "GET VARIABLE",
     "STREAM FILE", "SAY NUMBER", "SAY DIGITS", "WAIT FOR DIGIT"}
)  # fmt: skip


def transcript_environment(name: str = "process_session.txt") -> list[str]:
    """The environment block of a captured transcript, as lines without newlines."""
    lines = []
    for raw in (FIXTURES / name).read_text(encoding="utf-8").splitlines():
        if raw.startswith("## "):
            continue
        if raw == "":
            break
        lines.append(raw)
    return lines


def environment(name: str = "process_session.txt", **values: str) -> list[str]:
    """A captured environment with some values replaced or added (``agi_callerid=...``)."""
    lines, seen = [], set()
    for line in transcript_environment(name):
        key = line.split(":", 1)[0]
        seen.add(key)
        lines.append(f"{key}: {values[key]}" if key in values else line)
    lines += [f"{k}: {v}" for k, v in values.items() if k not in seen]
    return lines


def command_name(words: list[str]) -> str:
    for size in (3, 2, 1):
        name = " ".join(words[:size]).upper()
        if name in COMMANDS:
            return name
    return " ".join(words[:1])


def parse_args(line: str) -> list[str]:
    """How Asterisk's res_agi.c splits a command line into words (quotes, backslashes)."""
    words: list[str] = []
    current: list[str] | None = None
    quoted = escaped = False
    for char in line.rstrip("\n"):
        if char == '"' and not escaped:
            quoted = not quoted
            if current is None:
                current = []
            continue
        if char in " \t" and not quoted and not escaped:
            if current is not None:
                words.append("".join(current))
                current = None
            continue
        if char == "\\" and not escaped:
            escaped = True
            continue
        escaped = False
        current = current if current is not None else []
        current.append(char)
    if current is not None:
        words.append("".join(current))
    return words


@dataclass
class Interference:
    """Instead of Asterisk's reply, send ``lines`` to the command starting with ``prefix``
    (after ``skip`` such commands had their normal reply). Used once, in order."""

    prefix: str
    lines: list[str]
    skip: int = 0


class FakeAsterisk:
    def __init__(
        self,
        keys: str = "",
        *,
        hangup: str = "fastagi",
        env: Iterable[str] | None = None,
        missing: Iterable[str] = (),
        interfere: Iterable[Interference] = (),
        on_sighup: Callable[[], None] | None = None,
    ) -> None:
        assert hangup in HANGUP_STYLES, hangup
        self.script = deque(key for key in keys if not key.isspace())
        self.hangup = hangup
        self.missing = set(missing)
        self.interfere = list(interfere)
        self.on_sighup = on_sighup
        self.commands: list[str] = []
        self.replies: list[list[str]] = []
        self.variables: dict[str, str] = {}
        self.state = "up"  # up | dead | closed
        self.hangup_line_due = False
        self.hung_up_at: int | None = None  # index in commands
        self.environment = list(env) if env is not None else environment()
        self._pending: deque[str] = deque([*self.environment, ""])
        self._partial = ""

    # -- Asterisk's side of one command --------------------------------------------------

    def reply(self, command: str) -> list[str]:
        """The lines Asterisk sends back for one command line ([] once the line closed)."""
        self.commands.append(command.rstrip("\n"))
        lines = self._reply(command.rstrip("\n"))
        self.replies.append(lines)
        return lines

    def _reply(self, command: str) -> list[str]:
        if self.state == "closed":
            return []
        if self.interfere and command.startswith(self.interfere[0].prefix):
            if self.interfere[0].skip == 0:
                return self.interfere.pop(0).lines
            self.interfere[0].skip -= 1
        prefix = ["HANGUP"] if self.hangup_line_due else []
        self.hangup_line_due = False
        words = parse_args(command)
        name = command_name(words)
        if self.state == "dead" and name not in DEAD_OK:
            return [*prefix, DEAD]
        return prefix + self._run(name, words)

    def _run(self, name: str, words: list[str]) -> list[str]:
        if name == "ANSWER":
            return ["200 result=0"]
        if name in ("NOOP", "CHANNEL STATUS"):
            return ["200 result=0" if name == "NOOP" else "200 result=6"]
        if name == "SET VARIABLE":
            if len(words) != 4:
                return USAGE
            self.variables[words[2]] = words[3]
            return ["200 result=1"]
        if name == "HANGUP":
            self._die()
            return ["200 result=1", "HANGUP"] if self.hangup == "fastagi" else ["200 result=1"]
        if name == "STREAM FILE":
            if len(words) not in (4, 5):
                return USAGE
            if words[2] in self.missing:
                return ["200 result=-1 endpos=0"]
            return self._prompt(words[3], " endpos=8000")
        if name in ("SAY NUMBER", "SAY DIGITS"):
            if len(words) != 4 or not words[2].lstrip("-").isdigit():
                return USAGE
            return self._prompt(words[3], "")
        if name == "WAIT FOR DIGIT":
            if len(words) != 4 or not words[3].lstrip("-").isdigit():
                return USAGE
            return self._wait()
        return [INVALID]

    def _prompt(self, escape: str, endpos: str) -> list[str]:
        token = self.script[0] if self.script else None
        if token == "h" or (escape and token is None):
            if token:
                self.script.popleft()
            return self._hang_up(f"200 result=-1{endpos}")
        if escape and token == "~":
            self.script.popleft()
            return [f"200 result=0{endpos}"]
        if escape and token in escape and token in KEYS:
            self.script.popleft()
            return [f"200 result={ord(token)}" + (" endpos=4000" if endpos else "")]
        return [f"200 result=0{endpos}"]

    def _wait(self) -> list[str]:
        token = self.script.popleft() if self.script else None
        if token is None or token == "h":
            return self._hang_up("200 result=-1")
        if token == "t":
            return ["200 result=0"]
        assert token in KEYS, f"not a key in the script: {token!r}"
        return [f"200 result={ord(token)}"]

    def _hang_up(self, minus_one: str) -> list[str]:
        self.hung_up_at = len(self.commands) - 1
        self._die()
        if self.hangup == "eof":
            self.state = "closed"
            return []
        if self.hangup == "between":
            return ["HANGUP", DEAD]
        if self.hangup == "dead":
            return [DEAD]
        if self.hangup == "fastagi":
            self.hangup_line_due = True
        return [minus_one]

    def _die(self) -> None:
        self.state = "dead"
        if self.hangup == "process" and self.on_sighup is not None:
            self.on_sighup()

    # -- a pair of text streams ----------------------------------------------------------

    def readline(self) -> str:
        if self._pending:
            return self._pending.popleft() + "\n"
        if self.state == "closed":
            return ""
        raise AssertionError("the driver waited for a reply to no command")

    def write(self, text: str) -> int:
        if self.state == "closed":
            raise BrokenPipeError(32, "Broken pipe")
        self._partial += text
        while "\n" in self._partial:
            line, self._partial = self._partial.split("\n", 1)
            self._pending.extend(self.reply(line))
        return len(text)

    def flush(self) -> None:
        pass

    # -- a real process ------------------------------------------------------------------

    def talk_to(self, process: subprocess.Popen[str]) -> None:
        """Be Asterisk for ``process`` (text pipes): the environment, then a reply to each
        command until it exits or the line closes."""
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write("".join(f"{line}\n" for line in self.environment) + "\n")
        process.stdin.flush()
        for command in process.stdout:
            lines = self.reply(command)
            try:
                if self.state == "closed":
                    process.stdin.close()
                    continue
                process.stdin.write("".join(f"{line}\n" for line in lines))
                process.stdin.flush()
            except (BrokenPipeError, ValueError):
                pass  # it already left

    # -- what happened ---------------------------------------------------------------------

    def sent(self, prefix: str) -> list[str]:
        return [c for c in self.commands if c.startswith(prefix)]


def close_pipes(process: subprocess.Popen[str]) -> None:
    """Close ``process``'s pipes. A reply the fake wrote after the script left stays in the
    stdin buffer, and closing flushes it into a closed pipe: that is not the test's failure."""
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream and not stream.closed:
            try:
                stream.close()
            except BrokenPipeError:
                pass
