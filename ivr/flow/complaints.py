"""The complaint-handling standard (``complaints:`` in the flow file): how soon a complaint
must be acknowledged and resolved, the categories a caller may choose, and the time zone
its deadlines are said and shown in.

Read and checked here (durations, category names, the zone); ``check_categories`` then
holds every node that sets ``complaint_category`` to a listed category, so a flow that
loads can only open complaints of a category the standard names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.errors import SourcePosition as Pos
from ivr.flow.located import Fields, Located, Map, Reader, Scalar, suggestion

#: Keys of the ``complaints:`` section.
COMPLAINT_KEYS = ("acknowledge_within", "resolve_within", "categories", "timezone")
#: The call data a node sets to choose a complaint's category.
CATEGORY_VAR = "complaint_category"
DEFAULT_CATEGORIES = ("payment", "fees", "service", "security", "other")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
_HOUR = 3600.0


@dataclass(frozen=True)
class ComplaintStandard:
    """Durations in seconds; ``timezone`` is an IANA name."""

    acknowledge_within: float = 24 * _HOUR
    resolve_within: float = 7 * 24 * _HOUR
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    timezone: str = "UTC"


def read_standard(reader: Reader, f: Fields) -> ComplaintStandard:
    """The standard from the ``complaints:`` section's fields; a bad value is reported at
    itself and the default kept."""
    base = ComplaintStandard()
    acknowledge = _duration(f, "acknowledge_within", base.acknowledge_within)
    resolve = _duration(f, "resolve_within", base.resolve_within)
    if f.has("resolve_within") and resolve < acknowledge:
        reader.error(
            f.position("resolve_within"),
            f"{f.what}: resolve_within must not be shorter than acknowledge_within",
        )
    categories = _categories(reader, f) if f.has("categories") else base.categories
    zone = f.text("timezone", base.timezone)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        reader.error(f.position("timezone"), f"{f.what}: unknown time zone '{zone}'")
        zone = base.timezone
    return ComplaintStandard(acknowledge, resolve, categories, zone)


def _duration(f: Fields, name: str, default: float) -> float:
    if not f.has(name):
        return default
    seconds = f.duration(name, default)
    if seconds < _HOUR:
        f.reader.error(f.position(name), f"{f.what}: {name} must be at least 1h")
        return default
    return seconds


def _categories(reader: Reader, f: Fields) -> tuple[str, ...]:
    out: list[str] = []
    for name, pos in f.texts_at("categories"):
        if not _NAME.fullmatch(name):
            reader.error(pos, f"{f.what}: category '{name}' must be a lower-case name")
        elif name in out:
            reader.error(pos, f"{f.what}: category '{name}' is listed twice")
        else:
            out.append(name)
    if not out:
        reader.error(f.position("categories"), f"{f.what}: categories must list at least one")
        return ComplaintStandard().categories
    return tuple(out)


def categories_set(nodes: Located | None) -> list[tuple[str, str, Pos]]:
    """``(node id, category, where)`` for every node of the ``nodes:`` section whose
    ``set`` names a category (read as written: its problems are the compiler's)."""
    out: list[tuple[str, str, Pos]] = []
    for node_key, value in nodes.pairs if isinstance(nodes, Map) else ():
        node_id = node_key.value
        if not isinstance(value, Map):
            continue
        for key, item in value.pairs:
            if key.value != "set" or not isinstance(item, Map):
                continue
            for name, written in item.pairs:
                if name.value == CATEGORY_VAR and isinstance(written, Scalar):
                    out.append((node_id, written.value, written.pos))
    return out


def check_categories(
    reader: Reader, standard: ComplaintStandard, written: list[tuple[str, str, Pos]]
) -> None:
    """Every ``set: {complaint_category: X}`` names a category of the standard."""
    for node_id, value, pos in written:
        if value in standard.categories:
            continue
        hint = suggestion(value, standard.categories)
        reader.error(
            pos,
            f"node '{node_id}': {CATEGORY_VAR} '{value}' is not one of the complaints'"
            f" categories ({', '.join(standard.categories)}){hint}",
        )
