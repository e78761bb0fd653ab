"""The composition root: the one place that builds engines, stores and use cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ivr.calls.session import CallSession
from ivr.config import Settings
from ivr.flow.engine import Engine
from ivr.flow.loader import load_flow
from ivr.flow.model import Flow
from ivr.flow.state import CallStart
from ivr.services import ports
from ivr.services.memory import MemoryWallet, SystemClock
from ivr.services.registry import HOTLINE_ACTIONS
from ivr.services.usecases import Ports, UseCases


def load_hotline(path: Path) -> Flow:
    """Load a flow file against the product's registered use cases."""
    return load_flow(path, HOTLINE_ACTIONS)


@dataclass
class Hotline:
    """Everything one process needs, built lazily on first use."""

    settings: Settings
    clock: ports.Clock = field(default_factory=SystemClock)

    @cached_property
    def flow(self) -> Flow:
        return load_hotline(self.settings.flow_path)

    @cached_property
    def engine(self) -> Engine:
        return Engine(self.flow)

    @cached_property
    def wallet(self) -> MemoryWallet:
        return MemoryWallet.with_demo_accounts()

    @cached_property
    def use_cases(self) -> UseCases:
        wallet = self.wallet
        return UseCases(Ports(wallet, wallet, wallet, self.clock))

    def session(self, call: CallStart) -> CallSession:
        return CallSession(self.engine, self.use_cases, call)


def bootstrap(settings: Settings | None = None, clock: ports.Clock | None = None) -> Hotline:
    settings = settings or Settings.from_env()
    return Hotline(settings, clock) if clock else Hotline(settings)
