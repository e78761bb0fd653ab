"""The real hotline with its self-service survey asked of every caller: ``callflows.yaml``
ships it off (``sample: 0``), so the survey's tests write a copy with ``sample: 1`` beside
links to the real prompts (their rendered audio too) and ``var`` (the PIN pepper and the
secret key the seeded databases were made with)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = "    sample: 0                     # off: raise it (e.g. 0.2) to ask a share of callers"


def surveyed_flow(folder: Path) -> Path:
    """``folder/callflows.yaml``: the real flow, every self-service caller surveyed."""
    text = (ROOT / "callflows.yaml").read_text(encoding="utf-8")
    assert SHIPPED in text, (
        "the self-service survey's sample line moved: update tests/survey_flow.py"
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "callflows.yaml"
    path.write_text(text.replace(SHIPPED, "    sample: 1"), encoding="utf-8")
    for name in ("prompts", "var"):
        link = folder / name
        (ROOT / name).mkdir(exist_ok=True)
        if not link.exists():
            link.symlink_to(ROOT / name, target_is_directory=True)
    return path
