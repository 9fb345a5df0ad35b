"""Repeated requests answered by their statements alone.

A POST request whose document, operation name, variables and caller are those
of an earlier request that every root field of which a compiled statement
answered (with data and no error) runs those statements again and answers
their JSON, without parsing, validating or executing anything: what the
earlier request passed (the parse, the spec's validation, the shape limits and
the cost, the list caps, the sign-in rule) depends on nothing but the document,
the variables, the settings and the caller, which the key holds. The
statements still run, so the data is as fresh as the executor's; read rules
are in their SQL.

Anything unusual takes the ordinary path, which then answers (and, when it
compiles everything again, remembers afresh): a body that is not one JSON
object of ``query`` / ``operationName`` / ``variables`` (a batch, a persisted
query's ``extensions``, a multipart upload, an integer past 64 bits),
variables over ``REMEMBERED_VARIABLES_BYTES`` as JSON, a statement that fails
(its entry is forgotten, so a statement that times out is not waited for twice
on every request), a value the compiler refuses at run time (the executor's
error then), no row for a non-null root field.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from expgraph.db.engine import Database
from expgraph.db.jsonsql import VIOLATION
from expgraph.db.records import read_rows
from expgraph.graphql.compiled import execution
from expgraph.graphql.compiled.compiler import caller_key
from expgraph.graphql.compiled.plan import recall, remember
from expgraph.graphql.http import LONG_NUMBER

REMEMBERED = 1024
"""Requests remembered per app (least recently used first forgotten)."""
REMEMBERED_VARIABLES_BYTES = execution.REMEMBERED_VARIABLES_BYTES
_KEYS = frozenset(("query", "operationName", "variables"))

served = 0
"""Requests answered from remembered statements so far in this process (for
tests and diagnostics, like ``execution.answered``)."""


@dataclass(frozen=True, slots=True)
class Field:
    """One root field of a remembered answer: its response key, its statement
    (and parameters) and whether it may be null."""

    key: bytes
    statement: tuple[Any, ...]
    nullable: bool


def request_key(
    query: Any, operation_name: Any, variables: Any, principal: Any
) -> tuple[Any, ...] | None:
    """What a request's answer depends on (None: not remembered)."""
    if not isinstance(query, str) or not (
        operation_name is None or isinstance(operation_name, str)
    ):
        return None
    if variables is not None and not isinstance(variables, dict):
        return None
    try:
        values = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # an integer past 64 bits, read by Python: not kept
        return None
    if len(values) > REMEMBERED_VARIABLES_BYTES:
        return None
    return (query, operation_name, values, caller_key(principal))


def body_key(body: bytes, principal: Any) -> tuple[Any, ...] | None:
    """``request_key`` of a JSON request body, read as strawberry reads it
    (None for any body it would not read as one plain operation)."""
    if LONG_NUMBER.search(body):
        return None  # read again by the view, with every integer checked
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not data.keys() <= _KEYS:
        return None
    return request_key(
        data.get("query"), data.get("operationName"), data.get("variables"), principal
    )


class RememberedAnswers:
    """The last ``REMEMBERED`` requests that compiled whole, by ``request_key``."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], tuple[Field, ...]] = OrderedDict()

    def remember(self, key: tuple[Any, ...] | None, fields: tuple[Field, ...]) -> None:
        if key is not None and fields:
            remember(self._entries, key, fields, self.size)

    def forget(self, key: tuple[Any, ...]) -> None:
        self._entries.pop(key, None)

    def recall(self, key: tuple[Any, ...] | None) -> tuple[Field, ...] | None:
        return None if key is None else recall(self._entries, key)

    async def answer(self, db: Database, key: tuple[Any, ...]) -> bytes | None:
        """The response body for the request of ``key``, or None: the ordinary
        path answers it."""
        fields = self.recall(key)
        if fields is None:
            return None
        parts: list[bytes] = []
        try:
            async with db.read() as session:
                for field in fields:
                    rows = await read_rows(session, *field.statement)
                    text = rows[0][0] if rows else None
                    if text is None and not field.nullable:
                        return None
                    if text is not None and VIOLATION in text:
                        return None  # the executor's error, on the ordinary path
                    parts.append(field.key + (b"null" if text is None else text.encode()))
        except Exception:
            self.forget(key)  # the ordinary path meets it (and says how) next time
            return None
        global served
        served += 1
        execution.answered += len(fields)
        return b'{"data":{' + b",".join(parts) + b"}}"


def fields_of(answered: Mapping[str, tuple[tuple[Any, ...], bool]]) -> tuple[Field, ...]:
    """Remembered fields from the compiled execution's ``{key: (statement,
    nullable)}``, in the response's key order."""
    return tuple(
        Field(orjson.dumps(key) + b":", statement, nullable)
        for key, (statement, nullable) in answered.items()
    )
