"""The words a held caller hears, for every phone system: prompts in the caller's
language from the flow's catalog, the callback dialogue's ``Say`` with its secret values
marked, and the greeting of a customer who answers their callback."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from ivr.center import callback_dialogue as talk
from ivr.flow import actions as act
from ivr.flow.prompts import fill

logger = logging.getLogger(__name__)

#: Reasons with their own "it's about ..." prompt have callback_about_<reason>; the rest:
GENERAL_REASON = "general"


def said(prompt: Callable[..., act.Prompt], say: talk.Say) -> act.Prompt:
    """The prompt a dialogue's ``Say`` speaks (its secret values marked)."""
    if say.secret:
        return secret_prompt(prompt, say.prompt, **say.values)
    return prompt(say.prompt, **say.values)


def callback_greeting(
    prompt: Callable[..., act.Prompt],
    has_prompt: Callable[[str], bool],
    reason: str | None,
    code: str,
) -> list[act.Prompt]:
    """What a customer who answers their callback hears before the agent: who is calling,
    about what (``callback_about_<reason>``, else the general one), and their reference
    code twice, so they know the call is genuine."""
    about = f"callback_about_{reason or GENERAL_REASON}"
    if not has_prompt(about):
        about = f"callback_about_{GENERAL_REASON}"
    said = secret_prompt(prompt, "callback_code_said", code=code)
    return [prompt("callback_greeting"), prompt(about), said, said, prompt("callback_connecting")]


def secret_prompt(prompt: Callable[..., act.Prompt], prompt_id: str, **values: str) -> act.Prompt:
    """``prompt(prompt_id, **values)`` with every value marked secret (a callback code):
    spoken to the caller, never logged (``act.Prompt.secret``)."""
    return replace(prompt(prompt_id, **values), secret=frozenset(values))


def prompter(
    catalog_text: Callable[[str, str], str | None], language: str
) -> Callable[..., act.Prompt]:
    """``prompt(id, **values)`` in ``language`` from the flow's catalog."""

    def prompt(prompt_id: str, **values: str) -> act.Prompt:
        template = catalog_text(prompt_id, language) or ""
        if not template:
            logger.warning("no prompt %s in %s", prompt_id, language)
        return act.Prompt(prompt_id, language, fill(template, values), values)

    return prompt
