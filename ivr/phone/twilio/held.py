"""A caller held over Twilio webhooks: what every reply of the wait needs (the contact
center, the prompts in the call's language, the URL of the next tick)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ivr.phone.hold_prompts import prompter
from ivr.phone.twilio import twiml

if TYPE_CHECKING:
    from ivr.flow import actions as act
    from ivr.phone.channel import Parts
    from ivr.services.contact_center import ContactCenter


@dataclass(frozen=True)
class HeldCall:
    parts: Parts
    speech: twiml.Speech
    #: Builds a webhook URL: ``url(kind, **query)``.
    url: Callable[..., str]
    language: str

    @property
    def center(self) -> ContactCenter:
        return self.parts.contact_center

    def prompt(self, prompt_id: str, **values: str) -> act.Prompt:
        return prompter(self.parts.flow.catalog.text, self.language)(prompt_id, **values)

    def next_url(self, memo: dict[str, Any], **query: Any) -> str:
        """The wait's next tick (``step`` + 1) for this call's entry."""
        return str(self.url("wait", step=int(memo["step"]) + 1, entry=memo["entry"], **query))

    def offer_after(self) -> float:
        """``IVR_CALLBACK_OFFER_AFTER``, read when a caller joins the queue."""
        return self.parts.callback_offer_after
