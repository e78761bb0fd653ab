"""Keys kept in files beside the flow (the secret key, the PIN pepper): read, or created
once with a random value that every process serving the flow then shares.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from ivr.errors import IvrError


class SecretKeyError(IvrError):
    """The secret key file could not be read or created."""


def load_or_create_key(path: Path, what: str = "secret key") -> bytes:
    """The key in ``path``; if there is none, a new random one written there (0600).
    Two processes creating it at once agree: the file appears whole, once (link)."""
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            scratch = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
            fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32) + "\n")
            try:
                os.link(scratch, path)
            except FileExistsError:
                pass  # another process won; use its key
            finally:
                scratch.unlink()
        key = path.read_text().strip()
    except OSError as exc:
        raise SecretKeyError(f"cannot read or create the {what} {path}: {exc}") from exc
    if not key:
        raise SecretKeyError(f"the {what} file {path} is empty")
    return key.encode()
