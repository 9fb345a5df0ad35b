"""Where compiled root fields run: the execution context's root field set.

graphql-core executes an operation's root fields through
``execute_root_grouped_field_set`` once the document is parsed, validated and
past every limit, and the variables are coerced (what strawberry's extensions
do around execution is unchanged). ``compiling(base)`` makes an execution
context class that answers the root fields ``plan`` compiles with one statement
each, on the request's read session, and hands the others to ``base`` (the
fast path's or strawberry's own executor); the response keeps the document's
key order. A compiled field's value is an ``orjson.Fragment`` of the JSON text
the database built: ``orjson.dumps`` splices it into the response unparsed.

A field falls back to the executor for this request when compiling it for
these variables fails a Python-side check (the executor then answers, with
its own error), and, logged, when its statement fails, unless the statement
timed out: the field then answers TIMEOUT, as the executor would, without
waiting again. (A lost connection falls back: the executor's statement runs on
a fresh one.)
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

import orjson
from graphql import get_argument_values, is_non_null_type
from graphql.pyutils import Path

from expgraph import compat
from expgraph.db.errors import Failure, classify_database_error
from expgraph.db.jsonsql import VIOLATION
from expgraph.db.records import read_rows
from expgraph.graphql.compiled.compiler import Compiler, caller_key
from expgraph.graphql.compiled.plan import Unsupported, recall, remember, root_plans

logger = logging.getLogger("expgraph")
_NULL = orjson.Fragment(b"null")
_NOT_RETRIED = (Failure.TIMEOUT,)
"""Statement failures the executor would meet too: answered, not retried."""
_REFUSED = VIOLATION
REMEMBERED_REQUESTS = 1024
REMEMBERED_VARIABLES_BYTES = 4096
"""Requests remembered per app, and the largest variables (as JSON) remembered."""

answered = 0
"""Root fields answered by a compiled statement so far in this process (for tests
and diagnostics: a caller compares it before and after a request to tell whether
the compiler answered anything of it)."""


def compiling(base: type, strawberry_schema: Any) -> type:
    """An execution context class like ``base`` that runs compiled root fields."""

    # (document, operation, variables, caller) -> each compiled root field's
    # statement and parameters: a repeated request compiles nothing.
    remembered: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()

    class Compiling(base):
        def execute_root_grouped_field_set(
            self,
            root_type: Any,
            root_value: Any,
            grouped_field_set: Any,
            serially: bool,
            position_context: Any,
        ) -> Any:
            compiled = None
            if not serially:
                try:
                    compiled = self._compiled(grouped_field_set)
                except Exception:  # a compiler bug: the executor answers
                    logger.warning("query compilation failed", exc_info=True)
            if not compiled:
                return super().execute_root_grouped_field_set(
                    root_type, root_value, grouped_field_set, serially, position_context
                )
            rest = {
                key: details for key, details in grouped_field_set.items() if key not in compiled
            }
            return self._answer(
                root_type, root_value, grouped_field_set, rest, compiled, position_context
            )

        def _compiled(self, grouped_field_set: Any) -> dict[str, Any] | None:
            """The statement of each root field that compiles for these variables."""
            plans = root_plans(
                self.schema, self.operation, self.fragments, self.variable_values, grouped_field_set
            )
            if not plans:
                return None
            context = self.context_value
            request = self._request_key()
            known = None if request is None else recall(remembered, request)
            if known is not None:
                return dict(known)
            compiler = Compiler(
                context.db.dialect, context.principal, context.settings, self._arguments
            )
            query = self.schema.query_type
            statements = {}
            for key, plan in plans.items():
                details = grouped_field_set[key]
                try:
                    arguments = self._arguments(query.fields[details[0].node.name.value], details)
                    statements[key] = compiler.statement(plan, arguments, context)
                except Unsupported:
                    logger.debug("root field %r takes the executor", key, exc_info=True)
                    continue
            if request is not None:
                remember(remembered, request, statements, REMEMBERED_REQUESTS)
            return dict(statements)

        def _request_key(self) -> tuple[Any, ...] | None:
            """What a request's statements depend on: its document and operation,
            its variables' values and the caller (None: not remembered, e.g.
            variables too big to keep as a key)."""
            operation = self.operation
            if operation.loc is None:
                return None
            values = self.variable_values  # graphql-core 3.3: VariableValues
            try:
                variables = orjson.dumps(
                    getattr(values, "coerced", values),
                    option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
                )
            except TypeError:
                return None
            if len(variables) > REMEMBERED_VARIABLES_BYTES:
                return None
            name = operation.name.value if operation.name else None
            return (
                operation.loc.source.body,
                name,
                variables,
                caller_key(self.context_value.principal),
            )

        def _arguments(self, field: Any, details: Any) -> dict[str, Any]:
            """The field's arguments as its resolver would get them (Python names)."""
            try:
                values = get_argument_values(field, details[0].node, self.variable_values)
                definition = compat.definition_of(field)
                return compat.convert_arguments(
                    values,
                    definition.arguments,
                    scalar_registry=strawberry_schema.schema_converter.scalar_registry,
                    config=strawberry_schema.config,
                    info=None,
                )
            except Exception as exc:  # the executor refuses them, with its own error
                raise Unsupported("arguments") from exc

        async def _answer(
            self,
            root_type: Any,
            root_value: Any,
            grouped_field_set: Any,
            rest: Any,
            compiled: dict[str, Any],
            position_context: Any,
        ) -> dict[str, Any] | None:
            values: dict[str, Any] = {}
            db = self.context_value.db
            whole = not rest  # every root field compiled: remembered when all answer
            async with db.read() as session:
                for key, statement in compiled.items():
                    try:
                        # One row, or none (node(id:) of no row: null). Run as
                        # every read is: once more on a new connection when the
                        # server closed the pooled one (a terminated backend).
                        rows = await read_rows(session, *statement)
                        text = rows[0][0] if rows else None
                    except Exception as exc:
                        if classify_database_error(exc) in _NOT_RETRIED:
                            # The executor would fail the same way (and wait again):
                            # answer its error for this field, as it would.
                            values[key] = self._field_error(root_type, key, exc, grouped_field_set)
                            whole = False
                            continue
                        logger.warning("compiled root field %r failed", key, exc_info=True)
                        rest[key] = grouped_field_set[key]
                        continue
                    if text is not None and _REFUSED in text:
                        rest[key] = grouped_field_set[key]  # the executor's error
                        continue
                    values[key] = _NULL if text is None else orjson.Fragment(text)
                    global answered
                    answered += 1
            if whole and not rest:
                self._remember_answer(root_type, grouped_field_set, compiled)
            if rest:
                executed = super().execute_root_grouped_field_set(
                    root_type, root_value, rest, False, position_context
                )
                if self.is_awaitable(executed):
                    executed = await executed
                if executed is None:
                    return None  # a non-null root field failed: no data
                values.update(executed)
            return {key: values[key] for key in grouped_field_set if key in values}

        def _remember_answer(
            self, root_type: Any, grouped_field_set: Any, compiled: dict[str, Any]
        ) -> None:
            """Leave on the context what answered the whole request, in response
            order, with each field's nullability (``answers.RememberedAnswers``)."""
            fields = root_type.fields
            self.context_value.compiled = {
                key: (
                    compiled[key],
                    not is_non_null_type(fields[details[0].node.name.value].type),
                )
                for key, details in grouped_field_set.items()
            }

        def _field_error(
            self, root_type: Any, key: str, exc: Exception, grouped_field_set: Any
        ) -> Any:
            """Record ``exc`` as the root field's error as the executor does (raised
            on when the field is non-null: then the response has no data); null."""
            details = grouped_field_set[key]
            return_type = root_type.fields[details[0].node.name.value].type
            self.handle_field_error(exc, return_type, details, Path(None, key, root_type.name))
            return _NULL

    Compiling.executes_with = base
    Compiling.__name__ = f"Compiling{base.__name__}"
    Compiling.__qualname__ = Compiling.__name__
    return Compiling


def executor_of(execution_context_class: type) -> type:
    """The execution context that executes what is not compiled (the class
    itself when it does not compile)."""
    return getattr(execution_context_class, "executes_with", execution_context_class)
