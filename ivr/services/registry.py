"""The use cases a flow may name, with the outcomes they give and the data they add.

This is the vocabulary ``callflows.yaml`` is checked against; ``usecases.py`` runs them.
"""

from __future__ import annotations

from ivr.flow.model import VERIFY_ACTION, ActionSpec

FAILURE_REASONS = frozenset(
    {
        "insufficient_funds",
        "network_error",
        "risk_control_hold",
        "card_expired",
        "merchant_error",
        "limit_exceeded",
    }
)

#: How a transaction's status is said (``transaction_status_<status>`` prompts); a status
#: the wallet holds that is not here is said as ``other``.
TRANSACTION_STATUSES = frozenset({"completed", "failed", "refunded", "pending", "other"})
#: How many of the latest transactions ``recent_transactions`` reads back.
RECENT_TRANSACTIONS = 3


def _transaction_outputs() -> dict[str, frozenset[str] | None]:
    """``tx_count`` (1 to 3), then ``tx1_amount``, ``tx1_merchant``, ``tx1_date``,
    ``tx1_status`` and the same for tx2 and tx3, newest first."""
    outputs: dict[str, frozenset[str] | None] = {
        "tx_count": frozenset(str(n) for n in range(1, RECENT_TRANSACTIONS + 1))
    }
    for n in range(1, RECENT_TRANSACTIONS + 1):
        outputs.update({f"tx{n}_amount": None, f"tx{n}_merchant": None, f"tx{n}_date": None})
        outputs[f"tx{n}_status"] = TRANSACTION_STATUSES
    return outputs


#: The queues a callback can be resumed into, and the ways a reference code is refused.
RESUMABLE_QUEUES = ("general", "payments", "closure", "security")
RESUME_REFUSALS = frozenset({"wrong", "used", "expired", "locked"})


def _spec(name: str, outcomes: set[str], **outputs: frozenset[str] | None) -> ActionSpec:
    return ActionSpec(name, frozenset(outcomes), outputs)


HOTLINE_ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            VERIFY_ACTION,
            {"success", "failure", "locked", "closed"},
            account_number=None,
            holder_name=None,
            account_status=frozenset({"active", "frozen"}),
        ),
        _spec(
            "lookup_failed_payment",
            {"found", "none"},
            amount=None,
            merchant=None,
            date=None,
            failure_reason=FAILURE_REASONS,
        ),
        _spec("recent_transactions", {"found", "none"}, **_transaction_outputs()),
        _spec("send_reset_code", {"sent", "no_phone"}, phone_last4=None),
        _spec("check_closure", {"allowed", "balance_not_zero", "already_closed"}, balance=None),
        _spec("record_closure_confirmation", {"recorded"}),
        _spec("close_account", {"closed", "balance_not_zero"}, reference=None),
        _spec("freeze_account", {"frozen", "already_frozen"}, incident=None),
        _spec(
            "open_complaint",
            {"opened", "opened_no_phone"},
            complaint_reference=None,
            resolve_date=None,
        ),
        _spec(
            "complaint_status",
            {"none", "open", "acknowledged"},
            complaint_reference=None,
            acknowledge_date=None,
            resolve_date=None,
        ),
        _spec(
            "resume_callback",
            {*(f"resumed_{queue}" for queue in RESUMABLE_QUEUES), *RESUME_REFUSALS},
            reason=None,
            verified=frozenset({"yes"}),
            verified_account=None,
            resume_entry=None,
        ),
    )
}
