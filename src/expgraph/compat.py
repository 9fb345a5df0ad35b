"""The one module that touches private parts of graphql-core, strawberry and SQLAlchemy.

The fast path (``graphql/fastpath/``, ``db/direct.py``, ``db/records.py``) and a
few kernel modules need things these libraries do not promise to keep: methods
of graphql-core's execution context that expgraph's executor overrides or calls,
strawberry's argument conversion, resolver markers and ``Info`` internals,
SQLAlchemy's compiled result columns and its listeners called by hand. Every
other module reaches them through the functions here, never directly.

``check()`` looks, once per process (at the first ``missing()`` or
``use_fast_path()``), that each exists with the parameters expgraph calls it
with, and for a few that it behaves as expected (a tiny strawberry schema, a
compiled statement, a listener, a bare record). What is missing is a ``Missing``:

- a part only the fast path needs turns the fast path off: the schema runs on
  strawberry's stock execution and the database through SQLAlchemy;
- a part the stock path uses too has a fallback through public API (each
  function below says which), so a newer library still runs.

``use_fast_path`` logs one warning (logger ``expgraph``) naming every missing
part and what replaces it. See docs/architecture.md, "The fast path".
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import graphql
import strawberry
from graphql import GraphQLSchema
from strawberry.extensions import SchemaExtension

logger = logging.getLogger("expgraph")

# --- the private symbols, imported here only -------------------------------------

try:  # strawberry's own execution context: the fast path's executor extends it
    from strawberry.schema.schema import (
        StrawberryGraphQLCoreExecutionContext as StrawberryExecutionContext,
    )
except ImportError:  # pragma: no cover - a strawberry without it (check() says so)
    StrawberryExecutionContext = None  # type: ignore[assignment,misc]

try:
    from strawberry.types.arguments import convert_arguments as _convert_arguments
except ImportError:  # pragma: no cover
    _convert_arguments = None  # type: ignore[assignment]

try:
    from strawberry.schema.schema_converter import GraphQLCoreConverter

    DEFINITION_BACKREF: str = GraphQLCoreConverter.DEFINITION_BACKREF
except (ImportError, AttributeError):  # pragma: no cover
    DEFINITION_BACKREF = "strawberry-definition"

FAST_PATH = "fast path"  # what a missing part turns off (else: its fallback is used)


@dataclass(frozen=True)
class Missing:
    """A private part that is not as expected, and what expgraph does instead."""

    symbol: str
    problem: str
    fallback: str = FAST_PATH

    def __str__(self) -> str:
        instead = "the fast path is off" if self.fallback == FAST_PATH else self.fallback
        return f"{self.symbol}: {self.problem} ({instead})"


# --- graphql-core ------------------------------------------------------------------

# The execution context's methods the fast path's executor overrides or calls,
# with the parameters it passes (graphql-core 3.3).
EXECUTION_CONTEXT_METHODS: dict[str, tuple[str, ...]] = {
    "__init__": ("schema", "context_value", "variable_values", "middleware_manager"),
    "execute_fields": (
        "parent_type",
        "source_value",
        "path",
        "grouped_field_set",
        "position_context",
    ),
    "execute_field": ("parent_type", "source", "field_details_list", "path", "position_context"),
    "handle_field_error": ("raw_error", "return_type", "field_details_list", "path"),
    "collect_subfields": ("return_type", "field_details_list"),
    "get_stream_usage": ("field_details_list", "path"),
    "settle_in_background": ("awaitables",),
}


def scalar_input_coercion() -> tuple[str, str] | None:
    """The names of a graphql-core scalar's input coercion (variables, literals):
    ``coerce_input_value``/``coerce_input_literal`` (3.3), ``parse_value``/
    ``parse_literal`` (3.2), or None (then the built-in scalars are not hardened:
    ``db.values`` still refuses such values when they are written)."""
    for names in (("coerce_input_value", "coerce_input_literal"), ("parse_value", "parse_literal")):
        if all(callable(getattr(graphql.GraphQLString, name, None)) for name in names):
            return names
    return None


# --- strawberry ----------------------------------------------------------------------


def graphql_schema(schema: Any) -> GraphQLSchema:
    """graphql-core's schema under a strawberry schema (``schema._schema``); if
    strawberry keeps it elsewhere, the one ``GraphQLSchema`` among its attributes."""
    core = getattr(schema, "_schema", None)
    if isinstance(core, GraphQLSchema):
        return core
    for value in vars(schema).values():
        if isinstance(value, GraphQLSchema):
            return value
    raise TypeError(f"no graphql-core schema found on {schema!r}")


def definition_of(graphql_element: Any) -> Any:
    """The strawberry definition (field, argument) behind a graphql-core element,
    or None (strawberry's ``DEFINITION_BACKREF`` extension)."""
    return (graphql_element.extensions or {}).get(DEFINITION_BACKREF)


def is_default_resolver(resolve: Any) -> bool:
    """Whether strawberry made ``resolve`` as a field's default resolver (an
    attribute read), its private ``_is_default`` mark."""
    return bool(getattr(resolve, "_is_default", False))


def strawberry_info(info_class: Any, raw_info: Any, field: Any) -> Any:
    """The ``strawberry.Info`` strawberry would give a resolver (its private
    ``_raw_info`` and ``_field`` constructor arguments)."""
    return info_class(_raw_info=raw_info, _field=field)


def raw_info(info: Any) -> Any:
    """graphql-core's resolve info under a ``strawberry.Info`` (``_raw_info``), or
    None: callers then do without (e.g. ``lookahead.page_node_selections`` works
    its answer out again instead of remembering it per field node)."""
    return getattr(info, "_raw_info", None)


def convert_arguments(
    value: dict[str, Any],
    arguments: list[Any],
    *,
    scalar_registry: Any,
    config: Any,
    info: Any,
) -> dict[str, Any]:
    """strawberry's conversion of GraphQL argument values into its input types."""
    assert _convert_arguments is not None  # only called on the fast path
    return _convert_arguments(
        value, arguments, scalar_registry=scalar_registry, config=config, info=info
    )


def provided_operation_name(execution_context: Any) -> str | None:
    """The ``operationName`` the request gave, None when it gave none: kept in a
    private attribute of strawberry's ``ExecutionContext`` (its public
    ``operation_name`` falls back to the first operation's name). Without it, the
    public one: a document of several operations sent without ``operationName``
    then runs its first, as strawberry itself would, instead of being refused."""
    if _has_provided_operation_name():
        name: str | None = getattr(execution_context, "_provided_operation_name", None)
        return name
    public: str | None = execution_context.operation_name
    return public


# --- SQLAlchemy ------------------------------------------------------------------------


def result_columns(compiled: Any) -> list[tuple[str, Any]] | None:
    """``(key, type)`` of each result column of a compiled statement (SQLAlchemy
    keeps them in ``_result_columns`` for its own result handling), or None: the
    statement then runs through SQLAlchemy instead of straight on asyncpg."""
    entries = getattr(compiled, "_result_columns", None)
    if entries is None:
        return None
    try:
        return [(entry.keyname, entry.type) for entry in entries]
    except AttributeError:
        return None


def positional_names(expanded_state: Any) -> Sequence[str]:
    """The names of a compiled statement's positional parameters, in order."""
    names: Sequence[str] = expanded_state.positiontup
    return names


def cursor_listeners(sync_connection: Any, event: str) -> Sequence[Callable[..., Any]]:
    """The ``before_cursor_execute``/``after_cursor_execute`` listeners of a
    connection, to call by hand around a statement run on the driver directly."""
    return list(getattr(sync_connection.dispatch, event))


# --- the checks --------------------------------------------------------------------------


def _parameters(function: Any) -> list[str] | None:
    try:
        return list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return None


def _method(owner: type, name: str, expected: Sequence[str], label: str) -> Missing | None:
    function = getattr(owner, name, None)
    symbol = f"{label}.{name}({', '.join(expected)})"
    if not callable(function):
        return Missing(symbol, "missing")
    parameters = _parameters(function)
    if parameters is None:
        return Missing(symbol, "its parameters cannot be read")
    if name == "__init__":
        # the first constructor up the classes that names its parameters
        for cls in owner.__mro__:
            init = cls.__dict__.get("__init__")
            named = _parameters(init) if init is not None else None
            if named is not None and not {"args", "kwargs"} <= set(named):
                parameters = named
                break
        absent = [p for p in expected if p not in parameters]
        if absent:
            return Missing(symbol, f"no parameter {', '.join(absent)}")
        return None
    if parameters[1 : len(expected) + 1] != list(expected):
        return Missing(symbol, f"its parameters are ({', '.join(parameters[1:])})")
    return None


def _check_graphql_core() -> list[Missing]:
    found = [
        _method(StrawberryExecutionContext, name, expected, "graphql-core ExecutionContext")
        for name, expected in EXECUTION_CONTEXT_METHODS.items()
        if StrawberryExecutionContext is not None
    ]
    if scalar_input_coercion() is None:
        found.append(
            Missing(
                "graphql-core GraphQLScalarType.coerce_input_value/coerce_input_literal",
                "missing",
                "String, ID and Float inputs are not checked for NUL and non-finite "
                "values before resolvers (db.values still refuses them when written)",
            )
        )
    return [m for m in found if m is not None]


def _check_strawberry() -> list[Missing]:
    found: list[Missing] = []
    if StrawberryExecutionContext is None:
        found.append(Missing("strawberry StrawberryGraphQLCoreExecutionContext", "missing"))
    if _convert_arguments is None:
        found.append(Missing("strawberry.types.arguments.convert_arguments", "missing"))
    else:
        expected = ["value", "arguments", "scalar_registry", "config", "info"]
        if _parameters(_convert_arguments) != expected:
            found.append(
                Missing(
                    f"strawberry convert_arguments({', '.join(expected)})",
                    f"its parameters are {_parameters(_convert_arguments)}",
                )
            )
    info_fields = {f.name for f in dataclasses.fields(strawberry.Info)}
    if not {"_raw_info", "_field"} <= info_fields:
        found.append(Missing("strawberry Info(_raw_info, _field)", "not its fields"))
    try:
        found.extend(_probe_strawberry())
    except Exception as error:  # a probe that cannot even run: the fast path is off
        found.append(Missing("strawberry (a probe schema)", f"failed: {error!r}"))
    return found


@cache
def _has_provided_operation_name() -> bool:
    return not any(m.symbol.endswith("_provided_operation_name") for m in missing())


def _probe_strawberry() -> list[Missing]:
    """A tiny strawberry schema, executed once: what the fast path and the kernel
    read off strawberry's objects is there."""
    seen: dict[str, Any] = {}

    class Probe(SchemaExtension):
        def on_execute(self) -> Any:
            seen["operation"] = getattr(self.execution_context, "_provided_operation_name", None)
            yield

    @strawberry.type
    class Query:
        name: str = "x"

        @strawberry.field
        def echo(self, info: strawberry.Info, word: str = "") -> str:
            seen["raw_info"] = getattr(raw_info(info), "field_nodes", None)
            return word

    schema = strawberry.Schema(query=Query, extensions=[Probe])
    found: list[Missing] = []
    core = getattr(schema, "_schema", None)
    if not isinstance(core, GraphQLSchema):
        found.append(
            Missing(
                "strawberry Schema._schema",
                "missing",
                "graphql-core's schema is found among the schema's attributes",
            )
        )
    query_type: Any = graphql_schema(schema).type_map["Query"]
    plain, echo = query_type.fields["name"], query_type.fields["echo"]
    definition = definition_of(plain)
    if definition is None or definition_of(echo) is None:
        found.append(Missing(f"strawberry field extension {DEFINITION_BACKREF!r}", "missing"))
    elif not is_default_resolver(plain.resolve) or is_default_resolver(echo.resolve):
        found.append(Missing("strawberry default resolvers' _is_default mark", "missing"))
    else:
        resolver = definition_of(echo).base_resolver
        wanted = {
            "StrawberryField": (definition, ("python_name", "default_resolver", "base_resolver")),
            "StrawberryResolver": (
                resolver,
                (
                    "wrapped_func",
                    "self_parameter",
                    "parent_parameter",
                    "root_parameter",
                    "info_parameter",
                ),
            ),
            "Schema": (schema, ("config", "schema_converter", "exception_handlers")),
        }
        for owner, (value, names) in wanted.items():
            for name in names:
                if not hasattr(value, name):
                    found.append(Missing(f"strawberry {owner}.{name}", "missing"))
    result = schema.execute_sync('query A { name } query B { echo(word: "y") }', operation_name="B")
    if result.errors or result.data != {"echo": "y"}:
        found.append(Missing("strawberry (a probe schema)", f"answered {result}"))
    if seen.get("operation") != "B":
        found.append(
            Missing(
                "strawberry ExecutionContext._provided_operation_name",
                "missing",
                "a document of several operations sent without operationName runs its "
                "first instead of being refused",
            )
        )
    if not seen.get("raw_info"):
        found.append(
            Missing(
                "strawberry Info._raw_info",
                "missing",
                "a connection's page selections are worked out per parent, not once per place",
            )
        )
    return found


def _check_sqlalchemy() -> list[Missing]:
    from sqlalchemy import bindparam, create_engine, event, literal, select
    from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

    found: list[Missing] = []
    compiled: Any = select(literal(1).label("one"), bindparam("key")).compile(
        dialect=asyncpg_dialect()
    )
    columns = result_columns(compiled)
    if not columns or columns[0][0] != "one":
        found.append(Missing("SQLAlchemy SQLCompiler._result_columns (keyname, type)", "missing"))
    try:
        if list(positional_names(compiled.construct_expanded_state({"key": 1}))) != [
            "param_1",
            "key",
        ]:
            found.append(Missing("SQLAlchemy ExpandedState.positiontup", "not the parameters"))
    except AttributeError as error:
        found.append(Missing("SQLAlchemy construct_expanded_state().positiontup", str(error)))
    engine = create_engine("sqlite://")
    seen: list[str] = []

    def listener(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        with engine.connect() as connection:
            answers = [
                call(connection, None, "SELECT 1", [], None, False)
                for call in cursor_listeners(connection, "before_cursor_execute")
            ]
        if seen != ["SELECT 1"] or answers != [("SELECT 1", [])]:
            found.append(Missing("SQLAlchemy Connection.dispatch listeners", "not as expected"))
    except Exception as error:
        found.append(Missing("SQLAlchemy Connection.dispatch listeners", repr(error)))
    finally:
        engine.dispose()
    found.extend(_probe_bare_records())
    return found


def _probe_bare_records() -> list[Missing]:
    """``db.records`` makes instances of mapped classes without the ORM's state:
    their mapped attributes must read what is in ``__dict__``."""
    from sqlalchemy import Column, Integer, MetaData, Table
    from sqlalchemy.orm import registry

    class Row:
        pass

    mapped = registry()
    mapped.map_imperatively(
        Row, Table("probe", MetaData(), Column("id", Integer, primary_key=True))
    )
    mapped.configure()
    record: Any = object.__new__(Row)
    record.__dict__["id"] = 7
    try:
        if record.id == 7:
            return []
    except Exception:
        pass
    return [Missing("SQLAlchemy mapped attributes read off a bare instance's __dict__", "no")]


_STATE: dict[str, Any] = {}


def check() -> tuple[Missing, ...]:
    """Look again at every private part (and let the next ``use_fast_path`` warn
    again): what is missing."""
    found = (*_check_graphql_core(), *_check_strawberry(), *_check_sqlalchemy())
    _STATE.clear()
    _STATE["missing"] = found
    _has_provided_operation_name.cache_clear()
    return found


def missing() -> tuple[Missing, ...]:
    """What ``check()`` found (checked at the first call)."""
    if "missing" not in _STATE:
        check()
    found: tuple[Missing, ...] = _STATE["missing"]
    return found


def fast_path_available() -> bool:
    """Whether every part the fast path needs is as expected."""
    return not any(m.fallback == FAST_PATH for m in missing())


def use_fast_path(wanted: bool) -> bool:
    """Whether to run the fast path, given the setting (``wanted``): only when
    every part it needs is there. The first call that finds something missing
    logs one warning naming it all."""
    found = missing()
    relevant = [m for m in found if wanted or m.fallback != FAST_PATH]
    if relevant and not _STATE.get("warned"):
        _STATE["warned"] = True
        logger.warning(
            "private parts of graphql-core, strawberry or SQLAlchemy are not as expected%s: %s",
            ", so expgraph runs on the stock path" if wanted and not fast_path_available() else "",
            "; ".join(str(m) for m in relevant),
        )
    return wanted and fast_path_available()
