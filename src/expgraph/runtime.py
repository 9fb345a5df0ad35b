"""Process-wide tuning applied once when a server process starts."""

from __future__ import annotations

import gc

_tuned = False


def tune_garbage_collector(threshold: int) -> None:
    """Move everything alive at startup out of the collector's sight and collect
    the young generation less often.

    A request allocates tens of thousands of short-lived containers (ORM rows,
    GraphQL results). With CPython's defaults each one triggers dozens of young
    collections and, every hundred or so, a full one that walks the whole heap:
    the schema, the mappers and the import graph, tens of milliseconds each.
    Frozen objects are never walked again; they are not garbage (they live as
    long as the process). Applied once per process; ``threshold`` 0 does nothing.
    """
    global _tuned
    if _tuned or threshold <= 0:
        return
    _tuned = True
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(threshold, older, oldest)
