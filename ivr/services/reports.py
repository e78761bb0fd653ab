"""PLACEHOLDER until helper H1's branch (``insight``) is merged: H1 owns this module and
its real ``build_report``. It is here only so ``ivr report``, ``ivr graph --stats`` and
the reports page import; the lead keeps H1's version at merge."""

from __future__ import annotations

from collections.abc import Callable

from ivr.flow.model import Flow
from ivr.services.insight import Period, Report
from ivr.services.ports import UnitOfWork


def build_report(unit_of_work: Callable[[], UnitOfWork], flow: Flow, period: Period) -> Report:
    """The report of ``period`` on ``flow`` (H1's)."""
    raise NotImplementedError("build_report comes with the insight branch (H1)")
