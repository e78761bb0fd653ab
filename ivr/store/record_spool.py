"""The call-record spool: a folder of small JSON files, one per call, where records wait
while the database cannot take them.

Each call's newest version replaces its file whole (written beside it, then renamed),
so the folder never holds a torn record and never grows by more than one file a call;
it holds at most ``max_records`` files. A replay claims a file by renaming it (so a
newer version written meanwhile is not lost with it); a replay that fails puts the file
back (``release``) unless a newer one was written meanwhile, and a claimed file a dead
process left behind (its name holds the claimer's process id) is claimed again.
Versions of one record may so be replayed out of order or twice: ``CallRecords.save``
merges them. Records hold no PIN or code; the files are readable by their owner only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from ivr.services import ports

logger = logging.getLogger(__name__)
#: How many calls' records the spool holds at most.
MAX_RECORDS = 20_000
#: The largest file it reads back (a record is well under 10 kB).
MAX_FILE_BYTES = 256 * 1024
KEPT, CLAIMED, SCRATCH = ".json", ".claimed", ".tmp"


class SpoolFull(OSError):
    """The spool holds ``max_records`` calls already."""


class FileRecordSpool(ports.RecordSpool):
    def __init__(self, folder: Path, max_records: int = MAX_RECORDS) -> None:
        self.folder = folder
        self.max_records = max_records

    def keep(self, record: ports.CallRecord) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = _file_name(record.call_id)
        target = self.folder / f"{name}{KEPT}"
        if not target.exists() and self._count() >= self.max_records:
            raise SpoolFull(f"the call-record spool {self.folder} is full ({self.max_records})")
        scratch = self.folder / f".{name}.{secrets.token_hex(4)}{SCRATCH}"
        data = json.dumps(_to_json(record), ensure_ascii=False).encode("utf-8")
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(scratch, target)
        except BaseException:
            scratch.unlink(missing_ok=True)
            raise

    def claim(self, limit: int) -> list[tuple[str, ports.CallRecord]]:
        try:
            names = sorted(os.listdir(self.folder))
        except FileNotFoundError:
            return []
        claimed: list[tuple[str, ports.CallRecord]] = []
        for name in names:
            if len(claimed) >= limit:
                break
            if name.startswith(".") or not name.endswith((KEPT, CLAIMED)):
                continue
            if name.endswith(CLAIMED) and _claimer_alive(name):
                continue  # being replayed by another process
            stem = name.split(".", 1)[0]
            token = f"{stem}.{os.getpid()}-{secrets.token_hex(4)}{CLAIMED}"
            try:
                os.rename(self.folder / name, self.folder / token)
            except FileNotFoundError:
                continue  # another process claimed it first
            try:
                claimed.append((token, self._read(self.folder / token)))
            except SpoolDamaged as exc:
                logger.error("call-record spool %s: %s", self.folder, exc)
        return claimed

    def forget(self, token: str) -> None:
        (self.folder / token).unlink(missing_ok=True)

    def release(self, token: str) -> None:
        """Put a claimed record back, unless the call wrote a newer one meanwhile."""
        claimed = self.folder / token
        try:
            os.link(claimed, self.folder / f"{token.split('.', 1)[0]}{KEPT}")
        except FileExistsError:
            pass  # written after the claim: newer than this one
        except FileNotFoundError:
            return
        claimed.unlink(missing_ok=True)

    def _read(self, path: Path) -> ports.CallRecord:
        """The record in ``path``; a file that is not one is set aside (``.bad``)."""
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ValueError(f"over {MAX_FILE_BYTES} bytes")
            return _from_json(json.loads(path.read_bytes().decode("utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            path.rename(path.with_suffix(".bad"))
            raise SpoolDamaged(f"{path.name}: not a call record ({exc}); set aside") from None

    def _count(self) -> int:
        with os.scandir(self.folder) as found:
            return sum(1 for e in found if e.name.endswith((KEPT, CLAIMED)))


class SpoolDamaged(ValueError):
    """A spool file that is not a call record (it is renamed ``*.bad``)."""


def _claimer_alive(name: str) -> bool:
    """Whether the process that claimed this file (``<hash>.<pid>-<random>.claimed``)
    is another one still running; the files of a dead one are claimed again."""
    pid = name.split(".")[1].split("-")[0]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _file_name(call_id: str) -> str:
    """A file name for a call id of any characters: a hash of it."""
    return hashlib.sha256(call_id.encode("utf-8")).hexdigest()[:32]


_TIMES = ("started_at", "ended_at", "seen_at")


def _to_json(record: ports.CallRecord) -> dict[str, Any]:
    data: dict[str, Any] = {k: getattr(record, k) for k in record.__dataclass_fields__}
    data["path"] = list(record.path)
    data["timeouts"], data["invalid"] = dict(record.timeouts), dict(record.invalid)
    for key in _TIMES:
        value = data[key]
        data[key] = value.isoformat() if value is not None else None
    return data


def _from_json(data: dict[str, Any]) -> ports.CallRecord:
    values = dict(data)
    for key in _TIMES:
        raw = values.get(key)
        values[key] = datetime.fromisoformat(raw) if raw is not None else None
        if values[key] is not None and values[key].tzinfo is None:
            raise ValueError(f"{key} has no time zone")
    values["path"] = tuple(str(node) for node in values["path"])
    for key in ("timeouts", "invalid"):
        values[key] = {str(k): int(v) for k, v in values.get(key, {}).items()}
    return ports.CallRecord(**values)
