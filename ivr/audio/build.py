"""``ivr prompts build``: render the catalog under ``prompts/<lang>/``, only what changed.

A file is rendered when it is missing, when its manifest digest differs from its
recording's (the text or the voice settings changed), or with ``force``. Files the
manifest lists that the catalog no longer needs are removed; files the build never made
(and ``_dynamic/``) are left alone. Rendering runs ``workers`` espeak-ng/sox pipelines at
once; the manifest is written at the end, and also when rendering fails half-way, so the
files already done are not rendered again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from ivr.audio import manifest
from ivr.audio.plan import VOICES, Recording, catalog_recordings
from ivr.audio.render import RenderFailed, render, require_tools
from ivr.flow.model import Flow
from ivr.flow.prompts import Catalog

#: Told after each file: (files done, files to do, label such as ``en/main_menu``).
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Report:
    rendered: int
    unchanged: int
    removed: int
    languages: tuple[str, ...]
    seconds: float

    def __str__(self) -> str:
        return (
            f"{self.rendered} rendered, {self.unchanged} unchanged, {self.removed} removed "
            f"({', '.join(self.languages)}) in {self.seconds:.1f}s"
        )


def prompts_root(flow: Flow) -> Path:
    """Where a flow's audio lives by default: ``prompts/`` beside the flow file."""
    return Path(flow.source).parent / "prompts"


def build(
    catalog: Catalog,
    languages: Sequence[str],
    root: Path,
    *,
    force: bool = False,
    workers: int = 2,
    progress: Progress | None = None,
) -> Report:
    """Render what is missing or stale in each language; remove what is no longer used."""
    unknown = [language for language in languages if language not in VOICES]
    if unknown:
        known = ", ".join(VOICES)
        raise RenderFailed(f"no voice for language {', '.join(unknown)} (voices exist for {known})")
    require_tools()
    started = time.perf_counter()
    wanted = {language: catalog_recordings(catalog, language) for language in languages}
    made = {language: manifest.read(root / language) for language in languages}
    removed = sum(_remove_unused(root / lang, wanted[lang], made[lang]) for lang in languages)
    todo = [
        recording
        for language in languages
        for recording in wanted[language].values()
        if force or outdated(recording, root / language, made[language])
    ]
    try:
        for done, recording in enumerate(_render_all(todo, root, workers), start=1):
            made[recording.language][recording.path] = recording.digest()
            if progress is not None:
                progress(done, len(todo), recording.label)
    finally:
        for language in languages:
            manifest.write(root / language, made[language])
    total = sum(len(files) for files in wanted.values())
    seconds = time.perf_counter() - started
    return Report(len(todo), total - len(todo), removed, tuple(languages), seconds)


def outdated(recording: Recording, folder: Path, made: Mapping[str, str]) -> bool:
    """Missing, or made from other text or settings than the recording's."""
    return made.get(recording.path) != recording.digest() or not (folder / recording.path).is_file()


def _remove_unused(folder: Path, wanted: Mapping[str, Recording], made: dict[str, str]) -> int:
    removed = 0
    for path in [p for p in made if p not in wanted]:
        del made[path]
        target = (folder / path).resolve()
        if target.suffix == ".wav" and target.is_relative_to(folder.resolve()):
            if target.is_file():
                removed += 1
            target.unlink(missing_ok=True)
    return removed


def _render_all(todo: list[Recording], root: Path, workers: int) -> Iterator[Recording]:
    """Render each recording, yielding it when done (in the order they finish)."""
    if workers <= 1:
        for recording in todo:
            render(recording, root / recording.language)
            yield recording
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prompts") as pool:
        futures = {pool.submit(render, r, root / r.language): r for r in todo}
        try:
            for future in as_completed(futures):
                future.result()
                yield futures[future]
        finally:
            for future in futures:
                future.cancel()
