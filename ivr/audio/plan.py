"""What the catalog renders to, and with which voice settings (pure: no tools run here).

Every file under ``prompts/<lang>/`` is a ``Recording``: a path, a text and a kind. Its
``digest`` (sha256 of the voice settings, the output format and the text) is what the
manifest keeps, so a change to any of them re-renders the file and nothing else.

Voices (espeak-ng 1.51, Debian 12): English is ``en-us``. Mandarin is ``cmn-latn-pinyin``,
not ``cmn``: ``-v cmn`` looks each character up as pinyin and then reads the pinyin as
English ("好" comes out as "hao two"; espeak-ng issue #1236), while ``cmn-latn-pinyin``
says the characters correctly. Latin words inside Chinese text ("PIN", "App") and Chinese
inside English ("中文服务请按2" in the language menu) are cut into runs by script and each
run is spoken by its own voice, whatever the prompt's language.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from ivr.audio import fragments
from ivr.audio.speech import recordings
from ivr.flow.prompts import Catalog, placeholders

#: Bump when the rendering pipeline changes in a way the settings below do not show.
PIPELINE = 1
RATE, CHANNELS, BITS = 8000, 1, 16
DYNAMIC = "_dynamic"


@dataclass(frozen=True)
class Voice:
    """espeak-ng settings: ``-v name -s speed -p pitch``."""

    name: str
    speed: int
    pitch: int = 50


ENGLISH = Voice("en-us", speed=160)
MANDARIN = Voice("cmn-latn-pinyin", speed=150)
#: The voice for a language's script-neutral text (digits only, say).
VOICES: Mapping[str, Voice] = {"en": ENGLISH, "zh": MANDARIN}

#: Silence added (seconds, before and after) by kind: whole prompts end with a breath;
#: segments and values run into each other; Mandarin number fragments run together.
PADDING: Mapping[str, tuple[float, float]] = {
    "prompt": (0.0, 0.3),
    "segment": (0.05, 0.1),
    "fragment": (0.0, 0.02),
    "dynamic": (0.05, 0.05),
}
#: sox effects that cut the silence espeak-ng leaves at both ends (it writes true zeros).
TRIM = ("silence", "1", "0.01", "0.1%", "reverse", "silence", "1", "0.01", "0.1%", "reverse")
_SENTENCE_END = tuple(".,!?;:。，！？；：、")


@dataclass(frozen=True)
class Recording:
    """One file to render: ``path`` relative to ``prompts/<language>/``."""

    language: str
    path: str
    text: str
    kind: str

    @property
    def label(self) -> str:
        """``en/main_menu``, ``zh/_fragments/digit_1``: what the progress bar shows."""
        return f"{self.language}/{self.path.removesuffix('.wav')}"

    def runs(self) -> list[tuple[Voice, str, bool]]:
        """(voice, text, pause after) for each run of one script."""
        out = []
        pieces = script_runs(self.text)
        for index, (script, text) in enumerate(pieces):
            voice = MANDARIN if script == "han" else ENGLISH
            if script == "neutral":
                voice = VOICES[self.language]
            last = index == len(pieces) - 1
            out.append((voice, text, not last and text.endswith(_SENTENCE_END)))
        return out

    def digest(self) -> str:
        """sha256 of everything that decides what the file sounds like."""
        recipe = {
            "pipeline": PIPELINE,
            "format": [RATE, CHANNELS, BITS],
            "trim": TRIM,
            "padding": PADDING[self.kind],
            "runs": [[v.name, v.speed, v.pitch, text, pause] for v, text, pause in self.runs()],
        }
        encoded = json.dumps(recipe, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha256(encoded).hexdigest()


def script_runs(text: str) -> list[tuple[str, str]]:
    """Cut a text into runs of Han (CJK) and Latin script; digits, spaces and punctuation
    join the run before them (or the first run, at the start). ``"请输入6位PIN码。"`` ->
    han ``请输入6位``, latin ``PIN``, han ``码。``. A text of neither script is one neutral run."""
    runs: list[list[str]] = []
    lead = ""
    for char in text.strip():
        script = _script(char)
        if script is None:
            if runs:
                runs[-1][1] += char
            else:
                lead += char
        elif runs and runs[-1][0] == script:
            runs[-1][1] += char
        else:
            runs.append([script, lead + char if not runs else char])
            lead = ""
    if not runs:
        return [("neutral", lead)] if lead else []
    return [(script, body.strip()) for script, body in runs]


def _script(char: str) -> str | None:
    if "\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or "\u3400" <= char <= "\u4dbf":
        return "han"
    if char.isalpha() and unicodedata.category(char).startswith("L"):
        return "latin"
    return None


def catalog_recordings(catalog: Catalog, language: str) -> dict[str, Recording]:
    """Every file the catalog needs in one language, by path: prompts (or their segments)
    and the value fragments."""
    out: dict[str, Recording] = {}
    for prompt_id in sorted(catalog.texts):
        template = catalog.text(prompt_id, language)
        if template is None:
            continue
        kind = "segment" if placeholders(template) else "prompt"
        for name, text in recordings(prompt_id, template):
            out[f"{name}.wav"] = Recording(language, f"{name}.wav", text, kind)
    for name, text in fragments.BY_LANGUAGE.get(language, {}).items():
        path = f"{fragments.FOLDER}/{name}.wav"
        out[path] = Recording(language, path, text, "fragment")
    return out


def dynamic_recording(text: str, language: str) -> Recording:
    """A free-text value rendered at run time: ``_dynamic/<first 16 hex of its digest>.wav``."""
    probe = Recording(language, "", text.strip(), "dynamic")
    return Recording(language, f"{DYNAMIC}/{probe.digest()[:16]}.wav", probe.text, "dynamic")
