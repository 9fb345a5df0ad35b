"""Full-text search, per dialect: the document column, the match condition and
the rank.

The document is kept by database triggers (migration 0015): on PostgreSQL
the ``search_vector`` tsvector (GIN-indexed), on SQLite the FTS5 table named
after the searched table (``experiments_fts``), whose rowid is the row's id.

A user's search text is never given to the database's query syntax raw:
PostgreSQL parses it with ``websearch_to_tsquery`` (which accepts any text:
quoted phrases, ``or``, ``-word``); on SQLite every word is quoted as an FTS5
string and the words are ANDed, so FTS5 operators (``NEAR(``, ``*``, ``"``)
are plain text. A text without any word (letters or digits) matches nothing.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Float, Text, false, literal, literal_column
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Boolean

from expgraph.errors import BadRequest

SearchVector = Text().with_variant(TSVECTOR(), "postgresql")

SEARCH_OBJECTS = frozenset(
    {
        "ix_experiments_search_vector",
        "experiments_fts",
        *(
            f"experiments_fts_{shadow}"
            for shadow in ("data", "idx", "content", "docsize", "config")
        ),
    }
)
"""Tables and indexes of full-text search made by hand in migration 0015,
not in the models' metadata: left out of the drift comparison."""

MAX_SEARCH_LENGTH = 1000
_WORD = re.compile(r"\w+")
# FTS5 column weights for bm25, in the FTS table's column order
# (name, description, notes, hypothesis, tags): PostgreSQL's A/B/C weights.
_FTS_WEIGHTS = "10.0, 4.0, 2.0, 4.0, 2.0"


def search_words(text: str) -> list[str]:
    """The words of a search text (letters, digits and underscores)."""
    if "\x00" in text:
        raise BadRequest("search text must not contain NUL characters", field="search")
    if len(text) > MAX_SEARCH_LENGTH:
        raise BadRequest(
            f"search text must be at most {MAX_SEARCH_LENGTH} characters", field="search"
        )
    return _WORD.findall(text)


def fts5_query(words: list[str]) -> str:
    """An FTS5 query matching rows that hold every word: each one quoted."""
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


class _Search(FunctionElement[Any]):
    """``(id column, vector column, FTS table, raw text, FTS5 query)``."""

    inherit_cache = True


class _SearchMatch(_Search):
    inherit_cache = True
    type = Boolean()


class _SearchRank(_Search):
    inherit_cache = True
    type = Float()


def _parts(element: _Search, compiler: SQLCompiler, used: str, **kw: Any) -> list[str]:
    """The SQL of the arguments marked ``x`` in ``used`` (only those are
    rendered: a bound parameter processed is sent, used or not)."""
    return [
        compiler.process(clause, **kw) if use == "x" else ""
        for clause, use in zip(element.clauses, used, strict=True)
    ]


@compiles(_SearchMatch, "postgresql")
def _match_postgresql(element: _Search, compiler: SQLCompiler, **kw: Any) -> str:
    _, vector, _, text, _ = _parts(element, compiler, ".x.x.", **kw)
    return f"({vector} @@ websearch_to_tsquery('simple', {text}))"


@compiles(_SearchMatch)
def _match_fts5(element: _Search, compiler: SQLCompiler, **kw: Any) -> str:
    id_, _, table, _, query = _parts(element, compiler, "x.x.x", **kw)
    return f"({id_} IN (SELECT rowid FROM {table} WHERE {table} MATCH {query}))"


@compiles(_SearchRank, "postgresql")
def _rank_postgresql(element: _Search, compiler: SQLCompiler, **kw: Any) -> str:
    _, vector, _, text, _ = _parts(element, compiler, ".x.x.", **kw)
    return f"CAST(ts_rank({vector}, websearch_to_tsquery('simple', {text})) AS DOUBLE PRECISION)"


@compiles(_SearchRank)
def _rank_fts5(element: _Search, compiler: SQLCompiler, **kw: Any) -> str:
    id_, _, table, _, query = _parts(element, compiler, "x.x.x", **kw)
    return (
        f"coalesce((SELECT -bm25({table}, {_FTS_WEIGHTS}) FROM {table} "
        f"WHERE {table} MATCH {query} AND rowid = {id_}), 0.0)"
    )


def _arguments(id_column: Any, vector_column: Any, text: str) -> tuple[Any, ...] | None:
    words = search_words(text)
    if not words:
        return None
    table: ColumnElement[Any] = literal_column(f"{id_column.table.name}_fts")
    return (id_column, vector_column, table, literal(text, Text), literal(fts5_query(words), Text))


def search_match(id_column: Any, vector_column: Any, text: str) -> ColumnElement[bool]:
    """Rows whose search document matches ``text`` (every word, on PostgreSQL
    websearch syntax); BAD_REQUEST for NUL characters or an over-long text."""
    arguments = _arguments(id_column, vector_column, text)
    return false() if arguments is None else _SearchMatch(*arguments)


def search_rank(id_column: Any, vector_column: Any, text: str) -> ColumnElement[float]:
    """How well a matching row's document matches ``text``: larger is better
    (PostgreSQL ``ts_rank``, SQLite's negated weighted ``bm25``)."""
    arguments = _arguments(id_column, vector_column, text)
    return literal(0.0, Float) if arguments is None else _SearchRank(*arguments)
