"""Full-text search documents (the ``search_vector`` column), per dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, func, literal
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.sql.elements import ColumnElement

SearchVector = Text().with_variant(TSVECTOR(), "postgresql")


def search_document(dialect: str, *parts: str | None) -> ColumnElement[Any]:
    """The value to store in a ``search_vector`` column for these texts."""
    text = " ".join(p for p in parts if p)
    if dialect == "postgresql":
        return func.to_tsvector("simple", literal(text, Text))
    return literal(text.lower(), Text)
