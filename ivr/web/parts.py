"""What the web needs of the process it runs in. The composition root's hotline satisfies
``WebParts`` by its shape; the web imports nothing of ``ivr.app``, ``ivr.store`` or
``ivr.phone`` (``docs/architecture.md``)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from ivr.flow.model import Flow
    from ivr.services import ports
    from ivr.services.complaint_desk import ComplaintDesk
    from ivr.services.contact_center import ContactCenter
    from ivr.services.readiness import Check
    from ivr.services.sign_in_ports import SignInRecords


class WebSettings(Protocol):
    """The settings the web reads when the app is made."""

    @property
    def cookies_secure(self) -> bool:
        """Session cookies only over HTTPS."""
        ...

    @property
    def ratelimit_storage_uri(self) -> str:
        """Where the per-client sign-in failures are counted (``memory://``, ``redis://``)."""
        ...

    def secret(self) -> bytes:
        """The hotline's secret key (the session cookies' key is derived from it)."""
        ...


class WebOperations(Protocol):
    """What ``/metrics`` and ``/readyz`` read (``ivr.web.operations``)."""

    @property
    def registry(self) -> CollectorRegistry: ...

    def readiness(self) -> list[Check]:
        """Each check, passed or not, within its own deadline."""
        ...


class WebParts(Protocol):
    """The hotline as the console, the supervisor view and the API see it."""

    @property
    def settings(self) -> WebSettings: ...

    @property
    def clock(self) -> ports.Clock: ...

    @property
    def contact_center(self) -> ContactCenter: ...

    @property
    def sign_in_records(self) -> SignInRecords: ...

    @property
    def operations(self) -> WebOperations: ...

    @property
    def complaints(self) -> ComplaintDesk: ...

    @property
    def flow(self) -> Flow:
        """The flow new calls follow (the reports page draws it; its time zone)."""
        ...

    def unit_of_work(self) -> ports.UnitOfWork:
        """A unit of work on the hotline's database (the reports page reads through it)."""
        ...

    @property
    def stopping(self) -> threading.Event:
        """Set when the process stops: the console's live streams end at once."""
        ...
