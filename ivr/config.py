"""Settings from the environment, read once into one frozen object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    flow_path: Path
    database_url: str
    log_level: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """``IVR_FLOW`` (callflows.yaml), ``IVR_DATABASE_URL`` (an SQLite file under
        ./var), ``IVR_LOG_LEVEL`` (WARNING)."""
        env = os.environ if env is None else env
        default_db = f"sqlite:///{Path.cwd() / 'var' / 'ivr.sqlite3'}"
        return cls(
            flow_path=Path(env.get("IVR_FLOW", "callflows.yaml")),
            database_url=env.get("IVR_DATABASE_URL") or default_db,
            log_level=env.get("IVR_LOG_LEVEL", "WARNING").upper(),
        )
