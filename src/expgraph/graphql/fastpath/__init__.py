"""The fast path: expgraph's own execution of what strawberry and graphql-core
would execute anyway, faster, giving the same results.

- ``executor``: graphql-core's execution context with plain fields, objects read
  off their source and fields loaded ahead completed inline; lean resolvers;
- ``lookahead``: a page's relationships loaded ahead, one batch per level;
- in ``db/``: loader statements run straight on asyncpg (``db.direct``) and rows
  read as bare records (``db.records``).

It leans on private parts of graphql-core, strawberry and SQLAlchemy, reached
only through ``expgraph.compat``, which checks them at startup. The fast path
runs when the setting ``fast_path`` (``EXPGRAPH_FAST_PATH``, on by default) is on
and every such part is as expected; otherwise the schema runs on strawberry's
stock execution and the database through SQLAlchemy, with one warning naming
what is missing (``compat.use_fast_path``). ``tests/test_executor.py`` runs
documents through both and compares them.
"""

from __future__ import annotations

from typing import Any


def active(info: Any) -> bool:
    """Whether the schema answering ``info``'s request runs on the fast path."""
    return bool(getattr(info.schema, "fast_path", False))
