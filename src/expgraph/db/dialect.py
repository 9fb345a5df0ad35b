"""Statements whose SQL differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def insert_ignoring_conflicts(
    dialect: str,
    table: Table,
    values: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    conflict_columns: Sequence[str],
) -> Insert:
    """``INSERT ... ON CONFLICT (cols) DO NOTHING`` on either dialect."""
    module = postgresql if dialect == "postgresql" else sqlite
    return (
        module.insert(table)
        .values(values)
        .on_conflict_do_nothing(index_elements=list(conflict_columns))
    )


def upsert_increment(
    dialect: str,
    table: Table,
    values: Mapping[str, Any],
    conflict_columns: Sequence[str],
    counter: str,
) -> Insert:
    """Insert ``values`` or, when the row exists, add one to its ``counter``."""
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).values(values)
    return stmt.on_conflict_do_update(
        index_elements=list(conflict_columns),
        set_={counter: table.c[counter] + 1},
    )


def upsert(
    dialect: str,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    conflict_columns: Sequence[str],
    update_columns: Sequence[str],
) -> Insert:
    """``INSERT ... ON CONFLICT (cols) DO UPDATE SET col = excluded.col``."""
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).values(list(rows))
    return stmt.on_conflict_do_update(
        index_elements=list(conflict_columns),
        set_={c: stmt.excluded[c] for c in update_columns} | _touch(table),
    )


def _touch(table: Table) -> dict[str, Any]:
    from expgraph.db.types import utcnow

    return {"updated_at": utcnow()} if "updated_at" in table.c else {}
