"""The real hotline with its self-service survey asked of every caller: ``callflows.yaml``
ships it off (``sample: 0``), so the survey's tests write a copy with ``sample: 1`` beside
links to the real prompts (their rendered audio too) and ``var`` (the PIN pepper and the
secret key the seeded databases were made with)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = "    sample: 0                     # off: raise it (e.g. 0.2) to ask a share of callers"
GENERAL = (
    "  general:  {priority: 1, skill: general, max_wait: 15m, announce_every: 3m, ring_timeout: 20s"
)


def surveyed_flow(folder: Path, general_after_agent: bool = False) -> Path:
    """``folder/callflows.yaml``: the real flow, every self-service caller surveyed (and,
    with ``general_after_agent``, the general queue's callers after their agent too)."""
    text = (ROOT / "callflows.yaml").read_text(encoding="utf-8")
    assert SHIPPED in text, "the survey's sample line moved: update tests/survey_flow.py"
    text = text.replace(SHIPPED, "    sample: 1")
    if general_after_agent:
        assert GENERAL in text, "the general queue's line moved: update tests/survey_flow.py"
        text = text.replace(GENERAL, GENERAL + ", after_agent: survey_after_agent")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "callflows.yaml"
    path.write_text(text, encoding="utf-8")
    for name in ("prompts", "var"):
        link = folder / name
        (ROOT / name).mkdir(exist_ok=True)
        if not link.exists():
            link.symlink_to(ROOT / name, target_is_directory=True)
    return path
