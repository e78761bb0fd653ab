"""The loopback phone's own settings, read once from the environment (as each phone
system reads its own: ``ivr.phone.twilio.settings``, ``ivr.phone.asterisk.config``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ivr.errors import IvrError


@dataclass(frozen=True)
class LoopbackSettings:
    #: ``IVR_LOOPBACK_HOST``: where the loopback phone's server listens.
    host: str = "127.0.0.1"
    #: ``IVR_LOOPBACK_PORT``: its port (0: any free port); None (unset): no server.
    port: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LoopbackSettings:
        env = os.environ if environ is None else environ
        raw = env.get("IVR_LOOPBACK_PORT", "").strip()
        if raw and not (raw.isdigit() and int(raw) < 65536):
            raise IvrError(f"IVR_LOOPBACK_PORT must be a port number, not {raw[:20]!r}")
        host = env.get("IVR_LOOPBACK_HOST", "").strip() or cls.host
        return cls(host, int(raw) if raw else None)
