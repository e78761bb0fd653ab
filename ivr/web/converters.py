"""``<id:...>`` in a route: a row id, digits that fit the database's integer columns.
Anything else (too long, negative, not a number) is simply not a page: 404."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map

#: The largest id any column holds (PostgreSQL's ``integer``; SQLite's are larger).
ID_MAX = 2**31 - 1


class IdConverter(IntegerConverter):
    regex = r"\d{1,10}"

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=ID_MAX)
