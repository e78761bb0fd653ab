"""The agents' SIP passwords, kept across ``ivr asterisk-config`` runs in a secrets file.

The file (``<out>/agent-secrets.json`` unless ``--secrets`` names another) is JSON,
``{"passwords": {"agent-alice": "..."}}``, mode 0600, replaced atomically (a temporary file
in the same folder, then ``os.replace``). ``pjsip.conf`` holds only digests of them.

- A new endpoint gets a new password; an existing one keeps its password unless rotated
  (``--rotate ENDPOINT``, ``--rotate-all``); an endpoint no longer generated (the agent was
  removed or disabled) loses its password, so that a later phone of that name gets a new one.
- A file that cannot be read, is not this JSON, or is readable by group or others is
  refused with an error naming it: nobody's password is regenerated silently (that would lock
  every phone out), and a file others could read may have leaked (``chmod 600`` it, and
  rotate if it did).

``plan`` is pure; ``load`` and ``save`` do the file's I/O.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ivr.errors import IvrError

FILE_NAME = "agent-secrets.json"
MODE = 0o600
#: A bound on what is read: thousands of phones' passwords are far below it.
MAX_BYTES = 1 << 20
ENDPOINT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class AgentSecretsError(IvrError):
    """The secrets file cannot be used as it is; the message names it and the fix."""


@dataclass(frozen=True)
class Plan:
    """The passwords to keep (endpoint -> password) and what changed."""

    passwords: Mapping[str, str]
    created: tuple[str, ...]
    rotated: tuple[str, ...]
    dropped: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.created or self.rotated or self.dropped)


def new_password() -> str:
    return secrets.token_urlsafe(12)


def plan(
    kept: Mapping[str, str],
    endpoints: Iterable[str],
    rotate: Iterable[str] = (),
    rotate_all: bool = False,
    make: Callable[[], str] = new_password,
) -> Plan:
    """The passwords for ``endpoints``: ``kept`` ones unless rotated, new ones for the rest.
    Rotating an endpoint that is not generated is an error (a typo would rotate nothing)."""
    wanted = list(dict.fromkeys(endpoints))
    unknown = sorted(set(rotate) - set(wanted))
    if unknown:
        raise AgentSecretsError(
            f"--rotate {', '.join(unknown)}: no such agent endpoint "
            f"(the endpoints are {', '.join(wanted) or 'none'})"
        )
    rotating = set(wanted) if rotate_all else set(rotate)
    passwords: dict[str, str] = {}
    created: list[str] = []
    rotated: list[str] = []
    for name in wanted:
        if name in kept and name not in rotating:
            passwords[name] = kept[name]
            continue
        passwords[name] = make()
        (rotated if name in kept else created).append(name)
    dropped = tuple(name for name in kept if name not in passwords)
    return Plan(passwords, tuple(created), tuple(rotated), dropped)


def load(path: Path) -> dict[str, str]:
    """The passwords in ``path``; none when it does not exist."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise AgentSecretsError(f"{path}: cannot read the agents' passwords: {exc}") from exc
    mode = status.st_mode
    if status.st_size > MAX_BYTES:
        raise _corrupt(path, f"{status.st_size} bytes, more than the {MAX_BYTES} it may hold")
    if mode & 0o077:
        raise AgentSecretsError(
            f"{path} is readable by others (mode {stat.S_IMODE(mode):04o}); refused: "
            f"chmod 600 {path}, and if anyone else may have read it, --rotate-all"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise AgentSecretsError(f"{path}: cannot read the agents' passwords: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise _corrupt(path, f"not JSON ({exc})") from exc
    passwords = data.get("passwords") if isinstance(data, dict) else None
    if not isinstance(passwords, dict):
        raise _corrupt(path, 'no {"passwords": {...}} object')
    for name, password in passwords.items():
        if not ENDPOINT.fullmatch(name) or not isinstance(password, str) or not password:
            raise _corrupt(path, f"the entry {name!r} is not an endpoint and a password")
    return dict(passwords)


def _corrupt(path: Path, what: str) -> AgentSecretsError:
    return AgentSecretsError(
        f"{path}: {what}. Nothing was written: restore the file from a backup, or move it "
        "away to give every agent phone a new password"
    )


def save(path: Path, passwords: Mapping[str, str]) -> None:
    """Write ``passwords`` to ``path`` atomically, mode 0600 from the start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"passwords": dict(passwords)}, indent=2, sort_keys=True) + "\n"
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:  # mkstemp: mode 0600
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
