"""Integrity errors from either driver, classified once.

Services check what they can before writing; this is the net for races
(two requests creating the same name at once), so a violated constraint is a
CONFLICT or BAD_REQUEST, never an internal error.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

from expgraph.graphql.errors import BadRequest, Conflict, ExpgraphError

_PG_UNIQUE, _PG_FOREIGN_KEY, _PG_NOT_NULL, _PG_CHECK = "23505", "23503", "23502", "23514"


def classify_integrity_error(exc: IntegrityError) -> str:
    """One of ``unique``, ``foreign_key``, ``not_null``, ``check`` or ``other``."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(
        getattr(orig, "__cause__", None), "sqlstate", None
    )
    by_state = {
        _PG_UNIQUE: "unique",
        _PG_FOREIGN_KEY: "foreign_key",
        _PG_NOT_NULL: "not_null",
        _PG_CHECK: "check",
    }
    if sqlstate in by_state:
        return by_state[sqlstate]
    message = str(orig)
    for pattern, kind in (
        (r"UNIQUE constraint failed", "unique"),
        (r"FOREIGN KEY constraint failed", "foreign_key"),
        (r"NOT NULL constraint failed", "not_null"),
        (r"CHECK constraint failed", "check"),
    ):
        if re.search(pattern, message):
            return kind
    return "other"


def integrity_error_to_graphql(exc: IntegrityError) -> ExpgraphError:
    kind = classify_integrity_error(exc)
    if kind == "unique":
        return Conflict("a record with the same unique value already exists")
    if kind == "foreign_key":
        return BadRequest("a referenced record does not exist or is still referenced")
    if kind == "not_null":
        return BadRequest("a required value is missing")
    if kind == "check":
        return BadRequest("a value is out of its allowed range")
    return BadRequest("the write violates a database constraint")
