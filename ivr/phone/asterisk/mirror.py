"""Which Debian mirror this machine uses, read from its apt sources (pure: text in, URI out).

Both formats are understood: one-line ``sources.list`` entries
(``deb [options] URI SUITE COMPONENT...``) and deb822 ``*.sources`` paragraphs
(``Types:``, ``URIs:``, ``Suites:``, ``Enabled:``). The mirror is the first ``deb`` source
whose URI path ends in ``/debian`` and that is not the security archive.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Source:
    uri: str
    suites: tuple[str, ...]


def debian_mirror(files: Iterable[tuple[str, str]]) -> str | None:
    """The mirror's URI (no trailing slash) among ``(file name, text)`` pairs, or None."""
    for name, text in files:
        parse = _deb822 if name.endswith(".sources") else _one_line
        for source in parse(text):
            if _is_debian_archive(source):
                return source.uri.rstrip("/")
    return None


def system_sources(etc_apt: Path = Path("/etc/apt")) -> list[tuple[str, str]]:
    """``(name, text)`` of ``sources.list`` and ``sources.list.d/*.{list,sources}``."""
    found: list[tuple[str, str]] = []
    main = etc_apt / "sources.list"
    if main.is_file():
        found.append((main.name, main.read_text(errors="replace")))
    parts = etc_apt / "sources.list.d"
    if parts.is_dir():
        for path in sorted(parts.iterdir()):
            if path.suffix in (".list", ".sources") and path.is_file():
                found.append((path.name, path.read_text(errors="replace")))
    return found


def _is_debian_archive(source: Source) -> bool:
    split = urlsplit(source.uri)
    if split.scheme not in ("http", "https") or not split.path.rstrip("/").endswith("/debian"):
        return False
    return not any(suite.endswith("-security") for suite in source.suites)


def _one_line(text: str) -> Iterator[Source]:
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        rest = line[4:].strip()
        if rest.startswith("["):
            rest = rest.partition("]")[2].strip()
        words = rest.split()
        if len(words) >= 2:
            yield Source(words[0], (words[1],))


def _deb822(text: str) -> Iterator[Source]:
    for paragraph in _paragraphs(text):
        if paragraph.get("enabled", "yes").lower() == "no":
            continue
        if "deb" not in paragraph.get("types", "").split():
            continue
        suites = tuple(paragraph.get("suites", "").split())
        for uri in paragraph.get("uris", "").split():
            yield Source(uri, suites)


def _paragraphs(text: str) -> Iterator[dict[str, str]]:
    fields: dict[str, str] = {}
    key = ""
    for raw in [*text.splitlines(), ""]:
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if fields:
                yield fields
            fields, key = {}, ""
        elif raw[0] in " \t" and key:
            fields[key] += " " + raw.strip()
        elif ":" in raw:
            key, _, value = raw.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
