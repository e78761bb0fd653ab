"""Settings from the environment, read once into one frozen object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    flow_path: Path
    log_level: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            flow_path=Path(env.get("IVR_FLOW", "callflows.yaml")),
            log_level=env.get("IVR_LOG_LEVEL", "WARNING").upper(),
        )
