"""The default hotline shipped inside the package (``ivr/defaults``): ``ivr init`` copies
it into a folder of the user's, where it is theirs to edit and where the files that
belong beside a flow (``var/secret.key``, rendered prompt audio) then live too. The copied
flow's first line names the installed package's schema, for editors."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from ivr.app.flow_schema import SCHEMA_PATH, with_schema_at
from ivr.errors import IvrError

#: The files of the default hotline, relative to ``ivr/defaults`` and to the target folder.
FILES = ("callflows.yaml", "prompts/prompts.yaml")


def write_default_hotline(folder: Path) -> list[Path]:
    """Copy the default flow and prompt catalog into ``folder``; refuse to overwrite."""
    targets = [folder / name for name in FILES]
    present = [str(path) for path in targets if path.exists()]
    if present:
        verb = "exists" if len(present) == 1 else "exist"
        raise IvrError(f"{', '.join(present)} already {verb}; nothing was written")
    shipped = resources.files("ivr") / "defaults"
    try:
        for name, target in zip(FILES, targets, strict=True):
            target.parent.mkdir(parents=True, exist_ok=True)
            with resources.as_file(shipped / name) as source:
                shutil.copyfile(source, target)
        flow = targets[0]
        flow.write_text(with_schema_at(flow.read_text("utf-8"), SCHEMA_PATH), "utf-8")
    except OSError as exc:
        raise IvrError(f"cannot write the default hotline into {folder}: {exc}") from exc
    return targets
