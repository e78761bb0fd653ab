"""The prompt catalog: text per prompt id and language, and placeholder filling."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def placeholders(template: str) -> list[str]:
    """The ``{names}`` a text or prompt id uses, in order."""
    return PLACEHOLDER.findall(template)


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace each ``{name}`` by its value; an unknown name becomes an empty string."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template)


@dataclass(frozen=True)
class Catalog:
    """Prompt texts: ``texts[prompt_id][language]``."""

    texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def __contains__(self, prompt_id: object) -> bool:
        return prompt_id in self.texts

    def text(self, prompt_id: str, language: str) -> str | None:
        by_language = self.texts.get(prompt_id)
        return None if by_language is None else by_language.get(language)
