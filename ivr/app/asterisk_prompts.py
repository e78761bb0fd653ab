"""Rendered prompts for the sandbox, through the ``ivr`` command itself."""

from __future__ import annotations

import os
import subprocess
import sys

from ivr.app.config import Settings

IVR = (sys.executable, "-m", "ivr.app.cli")


def build_prompts(settings: Settings) -> str | None:
    """Render what changed with ``ivr prompts build``; a problem to show, or None."""
    env = os.environ | {"IVR_FLOW": str(settings.flow_path)}
    result = subprocess.run([*IVR, "prompts", "build"], capture_output=True, text=True, env=env)
    if result.returncode:
        return f"ivr prompts build failed: {(result.stderr or result.stdout).strip()[-300:]}"
    return None
