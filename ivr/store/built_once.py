"""``built_once``: ``functools.cache`` for the store's statement builders, safe across
threads.

SQLAlchemy fills an alias's column collection, and an ORM entity's adapter, the first time
they are used, and that is not safe from two threads at once. Fifty agents claiming in the
first moment of a process built the claim together, and one of them got a statement whose
alias had not been adapted: a cartesian product with the whole table, cached for the life
of the process. So a builder runs under one lock, once per arguments; afterwards the
statement is read from a dict without taking it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from functools import wraps
from typing import TypeVar

T = TypeVar("T")

#: One lock for every builder: one builder may call another (re-entrant).
_BUILDING = threading.RLock()


def built_once(build: Callable[..., T]) -> Callable[..., T]:
    """``build`` called once per positional arguments (hashable), under the builders'
    lock; every later call gets that first result."""
    made: dict[tuple[Hashable, ...], T] = {}

    @wraps(build)
    def once(*args: Hashable) -> T:
        try:
            return made[args]
        except KeyError:
            pass
        with _BUILDING:
            if args not in made:
                made[args] = build(*args)
            return made[args]

    return once
