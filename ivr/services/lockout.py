"""The one lockout rule, for PINs (per account) and callback codes (per caller number):
``limit`` failures within ``window`` lock for ``duration`` from the last of them (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Lockout:
    limit: int
    window: timedelta
    duration: timedelta

    def locked(self, failures: Sequence[datetime], now: datetime) -> bool:
        """Some ``limit`` failures fell within ``window`` and the lock they started has
        not run out by ``now``."""
        ordered = sorted(failures)
        n = self.limit
        return any(
            ordered[i + n - 1] - ordered[i] <= self.window
            and ordered[i + n - 1] + self.duration > now
            for i in range(len(ordered) - n + 1)
        )

    @property
    def lookback(self) -> timedelta:
        """How far back failures can still matter."""
        return self.window + self.duration
