"""The process's Prometheus metrics (``prometheus-client``), all in one registry.

The counters live here, low in the layers, because ``prometheus_client`` is an in-memory
library: the phone drivers, the store and the web increment them where things happen,
and ``/metrics`` (the web) or ``IVR_METRICS_PORT`` (``ivr fastagi``) show them. The
figures read from the database at scrape time (queues, agents) are ``center_metrics``'s
collector, added by the composition root. docs/operations.md lists every name.

No label ever carries an account number, a PIN, a code or a caller's number: the labels
are channels, AGI command words, outcomes, reasons and kinds, each from a small set the
code itself names.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

#: Every metric of this module; ``ivr.app`` builds each process's registry on it.
REGISTRY = CollectorRegistry(auto_describe=True)

CALLS_IN_PROGRESS = Gauge(
    "ivr_calls_in_progress",
    "Calls this process is handling now, by channel (fastagi, agi, twilio).",
    ["channel"],
    registry=REGISTRY,
)
AGI_COMMAND_SECONDS = Histogram(
    "ivr_agi_command_seconds",
    "Time from sending an AGI command to reading its reply (playback and digits included).",
    ["command"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
VERIFICATION_FAILURES = Counter(
    "ivr_verification_failures",
    "Identity checks that did not succeed, by outcome (failure, locked, ...).",
    ["outcome"],
    registry=REGISTRY,
)
WEBHOOK_SIGNATURE_REFUSALS = Counter(
    "ivr_webhook_signature_refusals",
    "Webhooks refused for a missing or wrong signature, or no token configured.",
    ["reason"],
    registry=REGISTRY,
)
REAPER_ACTIONS = Counter(
    "ivr_reaper_actions",
    "What the reaper ended, by kind (lease_expired, ring_timeout, callback_lapsed, "
    "record_interrupted).",
    ["kind"],
    registry=REGISTRY,
)
STORE_WAITS_RETRIED = Counter(
    "ivr_store_waits_retried",
    "Units of work tried again because no database connection was free in time.",
    registry=REGISTRY,
)
STORE_LOST_RETRIED = Counter(
    "ivr_store_lost_retried",
    "Units of work tried again because their database connection was lost.",
    registry=REGISTRY,
)
DATABASE_ERRORS = Counter(
    "ivr_database_errors",
    "Units of work that failed on a database error, by the error's class.",
    ["error"],
    registry=REGISTRY,
)

#: AGI's command names (Asterisk's ``agi show commands``): a command's label is its name,
#: never its arguments (a ``SAY DIGITS`` carries a code); anything else is ``other``.
AGI_COMMANDS = frozenset(
    {
        "ANSWER", "ASYNCAGI BREAK", "CHANNEL STATUS", "CONTROL STREAM FILE", "DATABASE DEL",
        "DATABASE DELTREE", "DATABASE GET", "DATABASE PUT", "EXEC", "GET DATA",
        "GET FULL VARIABLE", "GET OPTION", "GET VARIABLE", "GOSUB", "HANGUP", "NOOP",
        "RECEIVE CHAR", "RECEIVE TEXT", "RECORD FILE", "SAY ALPHA", "SAY DATE",
        "SAY DATETIME", "SAY DIGITS", "SAY NUMBER", "SAY PHONETIC", "SAY TIME", "SEND IMAGE",
        "SEND TEXT", "SET AUTOHANGUP", "SET CALLERID", "SET CONTEXT", "SET EXTENSION",
        "SET MUSIC", "SET PRIORITY", "SET VARIABLE", "STREAM FILE", "TDD MODE", "VERBOSE",
        "WAIT FOR DIGIT",
    }
)  # fmt: skip
#: What a label may say when the code passes a word it made itself.
_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")
#: Calls remembered per channel at most (a call whose end never arrives is forgotten).
MAX_LIVE_CALLS = 10_000


def command_word(command: str) -> str:
    """The label of an AGI command line: its name (``STREAM FILE``), never its arguments."""
    words = command.split(None, 3)[:3]
    for count in (3, 2, 1):
        name = " ".join(words[:count]).upper()
        if len(words) >= count and name in AGI_COMMANDS:
            return name
    return "other"


def label(word: str) -> str:
    """``word`` as a label value if it is a plain identifier; else ``other``."""
    return word if _LABEL.fullmatch(word) else "other"


def verification_failed(outcome: str) -> None:
    VERIFICATION_FAILURES.labels(outcome=label(outcome)).inc()


def signature_refused(reason: str) -> None:
    WEBHOOK_SIGNATURE_REFUSALS.labels(reason=label(reason)).inc()


def reaped(kind: str, count: int = 1) -> None:
    if count > 0:
        REAPER_ACTIONS.labels(kind=label(kind)).inc(count)


POOL_WAITS = Counter(
    "ivr_database_pool_waits",
    "Waits for a pooled connection that ran out (the pool's timeout) and were tried again.",
    registry=REGISTRY,
)


def pool_waits_retried() -> None:
    """A unit of work waited the pool's timeout for a connection (and tries again)."""
    POOL_WAITS.inc()


def database_failed(error: BaseException) -> None:
    DATABASE_ERRORS.labels(error=label(type(error).__name__)).inc()


class LiveCalls:
    """The calls in progress per channel, by call id: a call counts once however often
    its start is seen, and an end for a call this process never started changes nothing
    (a Twilio call's webhooks may reach several processes)."""

    def __init__(self, gauge: Gauge = CALLS_IN_PROGRESS, most: int = MAX_LIVE_CALLS) -> None:
        self.gauge = gauge
        self.most = most
        self._calls: dict[str, OrderedDict[str, None]] = {}
        self._lock = threading.Lock()

    def began(self, channel: str, call_id: str) -> None:
        with self._lock:
            calls = self._calls.setdefault(channel, OrderedDict())
            calls[call_id] = None
            while len(calls) > self.most:
                calls.popitem(last=False)
            self.gauge.labels(channel=label(channel)).set(len(calls))

    def ended(self, channel: str, call_id: str) -> None:
        with self._lock:
            calls = self._calls.setdefault(channel, OrderedDict())
            calls.pop(call_id, None)
            self.gauge.labels(channel=label(channel)).set(len(calls))


#: This process's calls in progress (``ivr_calls_in_progress``).
LIVE_CALLS = LiveCalls()
