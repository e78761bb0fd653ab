"""The IVR's node ids and call reasons as an agent reads them. The flow's nodes have no
words of their own, so the steps that matter to an agent are named here; any other id is
said as its words ("payment_lookup" → "Payment lookup"). Several nodes in a row that say
the same thing (a menu's intro, then the menu) are said once."""

from __future__ import annotations

from collections.abc import Iterable

REASONS = {
    "password_reset": "Password reset",
    "payment_failure": "A failed payment",
    "account_closure": "Closing the account",
    "security": "Security: fraud or a lost phone",
    "transactions": "Recent transactions",
    "complaint": "A complaint",
    "general": "General question",
}
STEPS = {
    "choose_language": "Chose a language",
    "welcome": "Heard the welcome",
    "main_menu": "Main menu",
    "identify": "Asked to identify",
    "ask_account": "Entered an account number",
    "ask_pin": "Entered a PIN",
    "check_identity": "Identity checked",
    "after_verify": "Verified",
    "verify_failed": "Wrong account number or PIN",
    "account_locked": "Locked out (too many wrong PINs)",
    "account_status_check": "Account status checked",
    "account_is_frozen": "Told the account is frozen",
    "account_closed": "Told the account is closed",
    "payment_intro": "Chose: a failed payment",
    "payment_lookup": "Looked up the failed payment",
    "payment_details": "Heard the failed payment's details",
    "payment_followup": "Heard what to do next",
    "payment_none_menu": "Heard what to do next",
    "agent_hours": "Checked the agents' hours",
    "payments_hours": "Checked the payments team's hours",
    "closure_hours": "Checked the closure team's hours",
    "after_hours": "Heard the agents have gone home",
    "agent_callback": "Asked to be called back",
    "payments_callback": "Asked to be called back",
    "closure_callback": "Asked to be called back",
    "recent_list": "Heard the latest transactions",
    "complaint_intro": "Chose: a complaint",
    "complaint_status": "Looked up their complaint",
    "complaint_open": "Opened a complaint",
    "no_failed_payment": "Heard: no failed payment found",
    "reset_intro": "Chose: password reset",
    "reset_send_code": "Reset code sent by SMS",
    "reset_no_phone": "No phone on file for a reset code",
    "closure_intro": "Chose: close the account",
    "security_intro": "Chose: security",
    "freeze_account": "Account frozen",
    "transactions_intro": "Chose: recent transactions",
    "recent_lookup": "Looked up recent transactions",
    "resume_code": "Entered a callback reference",
    "agent": "Asked for an agent",
    "payments_agent": "Asked for a payments agent",
    "closure_agent": "Asked for a closure agent",
    "security_queue": "Sent to the security team",
    "anything_else": "Asked if there is anything else",
}


def step(node: str) -> str:
    """One node id in words."""
    if node in STEPS:
        return STEPS[node]
    text = node.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else "A step"


def step_words(path: Iterable[str]) -> tuple[str, ...]:
    said: list[str] = []
    for node in path:
        words = step(node)
        if not said or said[-1] != words:
            said.append(words)
    return tuple(said)
