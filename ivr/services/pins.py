"""PIN hashing with a slow KDF (scrypt) and a server-side key (the pepper), compared in
constant time. A PIN is never kept.

Two forms are recognised by their first field:

    scrypt$N$r$p$salt$digest          digest = scrypt(PIN, salt): before the pepper
    scrypt-hmac$N$r$p$salt$mac        mac = HMAC-SHA256(pepper, scrypt(PIN, salt))

New hashes are always the second form. The pepper lives outside the database
(``Settings.pepper``), so a stolen database alone cannot be searched for the million
six-digit PINs: the key, not the hash's slowness, is what protects a PIN. No work factor a
phone call can wait for makes a million guesses slow (at N = 2**14, one core tries every
six-digit PIN of an account in about ten hours; at N = 2**10 in about 35 minutes), so the
cost ``N`` is set for the hotline's throughput (about 2 ms of one core, 1 MiB of memory per
check, memory-hard against cheap parallel hardware) and the pepper does the protecting,
with the lockout and the throttle against guessing by phone (docs/security.md).

A first-form hash, or one made with another cost, still verifies; ``needs_upgrade`` tells
the caller to store ``hash_pin`` of the PIN it has just checked (so the cost can be raised
or lowered in a release, and every account follows at its next successful check).

``PepperedPins`` is the ``PinChecker`` the hotline uses: at most ``slots`` checks run at
once (one per core by default) and the other callers wait their turn in order instead of
all slowing each other down; none holds a database connection or lock meanwhile
(``UseCases.verify_identity``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

from ivr.errors import IvrError
from ivr.services import ports

#: scrypt's cost: N = 2**10 with r = 8 is about 2 ms of one core and 1 MiB per check (2**14
#: was about 40 ms: 20 times the CPU of a whole call's other work; see the module's text).
N, R, P = 2**10, 8, 1
LEGACY = "scrypt"
PEPPERED = "scrypt-hmac"


def hash_pin(pin: str, pepper: bytes, *, n: int = N) -> str:
    """The stored form of ``pin``: a fresh salt, scrypt, then keyed with the pepper."""
    if not pepper:
        raise ValueError("a PIN hash needs a pepper")
    salt = os.urandom(16)
    mac = _peppered(pepper, _scrypt(pin, salt, n, R, P, 32))
    return f"{PEPPERED}${n}${R}${P}${_b64(salt)}${_b64(mac)}"


def pin_matches(pin: str, stored: str, pepper: bytes | None) -> bool:
    """Whether ``pin`` is the one ``stored`` was made from. A peppered hash needs the
    same pepper (None or another pepper: no match); a legacy hash needs none."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme not in (LEGACY, PEPPERED):
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(pin, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except ValueError:
        return False
    if scheme == PEPPERED:
        if not pepper:
            return False
        actual = _peppered(pepper, actual)
    return hmac.compare_digest(actual, expected)


def needs_upgrade(stored: str, n: int = N) -> bool:
    """A hash made before the pepper, or with another cost than ``n`` (rewrite it after
    a successful check)."""
    fields = stored.split("$")
    return fields[0] == LEGACY or len(fields) < 2 or fields[1] != str(n)


#: A hash no PIN is checked against for real: compared when the account does not exist, so
#: an unknown account number answers as slowly as a known one.
DECOY = f"{PEPPERED}${N}${R}${P}$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 43 + "="


#: How long a PIN check waits for a free slot before the call takes its error route.
SLOT_WAIT = 60.0


T = TypeVar("T")


class Offload(Protocol):
    """Runs a piece of work somewhere and returns what it returned
    (``PepperedPins.offload``)."""

    def __call__(self, work: Callable[[], T], /) -> T: ...


class PinCheckBusy(IvrError):
    """Every hashing slot stayed busy for ``SLOT_WAIT`` seconds."""


class PepperedPins(ports.PinChecker):
    """``pepper``: read when the first PIN is checked; ``slots``: checks at once."""

    def __init__(
        self,
        pepper: Callable[[], bytes],
        slots: int | None = None,
        wait: float = SLOT_WAIT,
        offload: Offload | None = None,
    ) -> None:
        """``offload``: runs a hashing (with its slot taken) and returns its result; the
        composition root's runs it on a worker thread when the caller is a call on an event
        loop (scrypt lets go of the interpreter lock: the loop serves other calls
        meanwhile). None: in the calling thread."""
        self.pepper = pepper
        self.slots = slots or os.cpu_count() or 1
        self.wait = wait
        self.offload = offload
        self._slots = threading.BoundedSemaphore(self.slots)

    def matches(self, pin: str, stored: str | None) -> bool:
        # An unknown number costs the same hashing work, so timing tells nothing.
        ok = self._hashing(lambda: pin_matches(pin, stored or DECOY, self.pepper()))
        return ok and stored is not None

    def upgraded(self, pin: str, stored: str) -> str | None:
        if not needs_upgrade(stored):
            return None
        return self._hashing(lambda: hash_pin(pin, self.pepper()))

    def _hashing(self, work: Callable[[], T]) -> T:
        def slotted() -> T:
            with self._slot():
                return work()

        return slotted() if self.offload is None else self.offload(slotted)

    @contextmanager
    def _slot(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self.wait):
            raise PinCheckBusy(f"no PIN check slot free for {self.wait:g} s")
        try:
            yield
        finally:
            self._slots.release()


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=length)


def _peppered(pepper: bytes, digest: bytes) -> bytes:
    return hmac.new(pepper, b"pin:" + digest, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
