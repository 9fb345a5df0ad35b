"""The one module that touches private parts of graphql-core, strawberry and SQLAlchemy.

The fast path (``graphql/fastpath/``, ``db/direct.py``, ``db/records.py``) and a
few kernel modules need things these libraries do not promise to keep: methods
of graphql-core's execution context that expgraph's executor overrides or calls,
graphql-core's variable coercion and strawberry's argument conversion (replaced,
for fast-path requests only, by per-type plans: ``install_fast_variable_coercion``,
``install_fast_argument_conversion``), resolver markers and ``Info`` internals,
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

import contextvars
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


# strawberry's conversion of argument values re-derives, for every input object of
# every request, each field's GraphQL name and resolved type and what kind of type
# it is (``convert_argument``: ``resolve_type`` and a chain of isinstance checks per
# field per object), which is most of a 1,000-item list input's cost. A converter
# made once per argument (and per input class) does the same steps with that work
# done ahead; whatever it does not handle itself (``Maybe``, lazy types, GlobalID,
# ``from_input``, unknown types) goes to strawberry's ``convert_argument`` as before.

_Converter = Callable[[Any, Any, tuple[str | int, ...]], Any]
_CONVERTERS: dict[int, tuple[Any, Any, Any, list[tuple[str, str, _Converter]]]] = {}


def _stock_converter(type_: Any, scalar_registry: Any, config: Any) -> _Converter:
    from strawberry.types.arguments import convert_argument

    def convert(value: Any, info: Any, path: tuple[str | int, ...]) -> Any:
        return convert_argument(value, type_, scalar_registry, config, info, path=path)

    return convert


def _converter(
    type_: Any, scalar_registry: Any, config: Any, classes: dict[Any, Any]
) -> _Converter:
    """A function converting a value of ``type_`` as ``convert_argument`` does."""
    from strawberry.relay.types import GlobalID
    from strawberry.types.arguments import _is_leaf_type, _is_optional_leaf_type
    from strawberry.types.base import (
        StrawberryList,
        StrawberryMaybe,
        StrawberryOptional,
        has_object_definition,
    )
    from strawberry.types.enum import has_enum_definition
    from strawberry.types.lazy_type import LazyType
    from strawberry.types.unset import UNSET

    if isinstance(type_, (StrawberryMaybe, LazyType)) or type_ is GlobalID:
        return _stock_converter(type_, scalar_registry, config)
    if isinstance(type_, StrawberryOptional):
        return _converter(type_.of_type, scalar_registry, config, classes)
    if isinstance(type_, StrawberryList):
        of_type = type_.of_type
        if _is_leaf_type(of_type, scalar_registry, skip_classes=(GlobalID,)) or (
            _is_optional_leaf_type(of_type, scalar_registry, skip_classes=(GlobalID,))
        ):

            def leaves(value: Any, info: Any, path: tuple[str | int, ...]) -> Any:
                if value is None or value is UNSET:
                    return value
                return list(value)  # a copy, as strawberry makes

            return leaves
        item = _converter(of_type, scalar_registry, config, classes)

        def items(value: Any, info: Any, path: tuple[str | int, ...]) -> Any:
            if value is None or value is UNSET:
                return value
            return [item(x, info, (*path, index)) for index, x in enumerate(value)]

        return items
    if _is_leaf_type(type_, scalar_registry) or has_enum_definition(type_):

        def leaf(value: Any, info: Any, path: tuple[str | int, ...]) -> Any:
            return value

        return leaf
    if not has_object_definition(type_) or type_.__strawberry_definition__.from_input is not None:
        return _stock_converter(type_, scalar_registry, config)
    if type_ in classes:  # made already (or being made: a recursive input)
        found: _Converter = classes[type_]
        return found
    definition = type_.__strawberry_definition__
    defaults: dict[str, Any] = {}
    if definition.is_input:
        defaults = {
            field.python_name: None
            for field in definition.fields
            if field.default_value is dataclasses.MISSING
            and field.default_factory is dataclasses.MISSING
        }
    fields: list[tuple[str, str, _Converter]] = []
    cls = type_

    def instance(value: Any, info: Any, path: tuple[str | int, ...]) -> Any:
        if value is None or value is UNSET:
            return value
        kwargs = dict(defaults)
        for graphql_name, python_name, convert in fields:
            if graphql_name in value:
                kwargs[python_name] = convert(value[graphql_name], info, (*path, graphql_name))
        return cls(**kwargs)

    classes[type_] = instance
    for field in definition.fields:
        fields.append(
            (
                config.name_converter.from_field(field),
                field.python_name,
                _converter(
                    field.resolve_type(type_definition=definition), scalar_registry, config, classes
                ),
            )
        )
    return instance


def _argument_converters(
    arguments: list[Any], scalar_registry: Any, config: Any
) -> list[tuple[str, str, _Converter]]:
    key = id(arguments)
    cached = _CONVERTERS.get(key)
    if (
        cached is not None
        and cached[0] is arguments
        and cached[1] is scalar_registry
        and (cached[2] is config)
    ):
        return cached[3]
    classes: dict[Any, Any] = {}
    try:
        made = [
            (
                config.name_converter.from_argument(argument),
                argument.python_name,
                _converter(argument.type, scalar_registry, config, classes),
            )
            for argument in arguments
        ]
    except (ImportError, AttributeError):  # a strawberry whose internals differ
        made = [
            (
                config.name_converter.from_argument(argument),
                argument.python_name,
                _stock_converter(argument.type, scalar_registry, config),
            )
            for argument in arguments
        ]
    _CONVERTERS[key] = (arguments, scalar_registry, config, made)
    return made


def fast_convert_arguments(
    value: dict[str, Any],
    arguments: list[Any],
    *,
    scalar_registry: Any,
    config: Any,
    info: Any,
) -> dict[str, Any]:
    """What ``convert_arguments`` gives, through converters made once per field's
    argument list (the fast path's conversion; tests/test_argument_conversion.py
    compares the two)."""
    if not arguments:
        return {}
    kwargs: dict[str, Any] = {}
    for name, python_name, convert in _argument_converters(arguments, scalar_registry, config):
        if name in value:
            kwargs[python_name] = convert(value[name], info, (name,))
    return kwargs


_FAST_CONVERSION = "_expgraph_fast_conversion"


def install_fast_argument_conversion() -> bool:
    """Let strawberry's own resolver wrapper (fields with permissions or extensions)
    convert arguments with ``fast_convert_arguments`` when the request's schema runs
    on the fast path (``schema.fast_path``); other schemas keep strawberry's
    conversion. It replaces ``convert_arguments`` in strawberry's private
    ``strawberry.schema.schema_converter`` module; when that module does not call
    the expected function, nothing is replaced (such fields convert as stock) and
    this returns False. Idempotent."""
    try:
        from strawberry.schema import schema_converter
    except ImportError:  # pragma: no cover
        return False
    current = getattr(schema_converter, "convert_arguments", None)
    if getattr(current, _FAST_CONVERSION, False):
        return True
    if _convert_arguments is None or current is not _convert_arguments:
        return False
    stock = _convert_arguments

    def convert_arguments(
        value: dict[str, Any],
        arguments: list[Any],
        scalar_registry: Any,
        config: Any,
        info: Any = None,
    ) -> dict[str, Any]:
        if getattr(getattr(info, "schema", None), "fast_path", False):
            return fast_convert_arguments(
                value, arguments, scalar_registry=scalar_registry, config=config, info=info
            )
        return stock(value, arguments, scalar_registry=scalar_registry, config=config, info=info)

    setattr(convert_arguments, _FAST_CONVERSION, True)
    schema_converter.convert_arguments = convert_arguments
    return True


# graphql-core's coercion of a request's variables (``coerce_input_value``, called
# by ``graphql.execution.values.coerce_variable_values``) asks, for every value of
# a 1,000-item list of input objects, what kind of type it has and walks each
# object's keys twice. A coercer made once per input type does the same steps
# (the same results, Undefined where graphql-core gives Undefined: the request's
# errors are then worked out by graphql-core's ``validate_input_value`` as
# before). It runs only while the fast path's executor builds its execution
# (``fast_variable_coercion``); oneOf input objects go to graphql-core's function.

_FAST_COERCION: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "expgraph_fast_coercion", default=False
)
_COERCERS: dict[tuple[Any, ...], Callable[[Any], Any]] = {}
_FAST_COERCION_MARK = "_expgraph_fast_coercion"


def _coercer(type_: Any) -> Callable[[Any], Any]:
    """What ``coerce_input_value(value, type_)`` gives, as a function of value."""
    from graphql import (
        GraphQLInputObjectType,
        GraphQLList,
        GraphQLNonNull,
        Undefined,
        is_leaf_type,
        is_required_input_field,
    )
    from graphql.pyutils import is_iterable
    from graphql.utilities.coerce_input_value import coerce_default_value

    key: tuple[Any, ...] = ()
    named = type_
    while isinstance(named, (GraphQLNonNull, GraphQLList)):
        key += ("!" if isinstance(named, GraphQLNonNull) else "[]",)
        named = named.of_type
    key += (named,)
    found = _COERCERS.get(key)
    if found is not None:
        return found

    if isinstance(type_, GraphQLNonNull):
        inner = _coercer(type_.of_type)

        def non_null(value: Any) -> Any:
            if value is None or value is Undefined:
                return Undefined
            return inner(value)

        made: Callable[[Any], Any] = non_null
    elif isinstance(type_, GraphQLList):
        item = _coercer(type_.of_type)

        def items(value: Any) -> Any:
            if value is None or value is Undefined:
                return None
            if type(value) is not list and not is_iterable(value):
                coerced = item(value)
                return Undefined if coerced is Undefined else [coerced]
            coerced_list: list[Any] = []
            append = coerced_list.append
            for item_value in value:
                coerced = item(item_value)
                if coerced is Undefined:
                    return Undefined
                append(coerced)
            return coerced_list

        made = items
    elif isinstance(type_, GraphQLInputObjectType) and not getattr(type_, "is_one_of", True):
        object_type = type_
        plan: list[tuple[str, str, Any, bool, Callable[[Any], Any] | None]] = []
        names: frozenset[str] = frozenset()

        def input_object(value: Any) -> Any:
            if value is None or value is Undefined:
                return None
            if not isinstance(value, dict):
                return Undefined
            for field_name, field_value in value.items():
                if field_name not in names and field_value is not Undefined:
                    return Undefined
            coerced_dict: dict[str, Any] = {}
            for field_name, out_name, field, required, coerce in plan:
                field_value = value.get(field_name, Undefined)
                if field_value is Undefined:
                    if required:
                        return Undefined
                    default = coerce_default_value(field)
                    if default is not Undefined:
                        coerced_dict[out_name] = default
                else:
                    assert coerce is not None
                    coerced = coerce(field_value)
                    if coerced is Undefined:
                        return Undefined
                    coerced_dict[out_name] = coerced
            return object_type.out_type(coerced_dict)

        _COERCERS[key] = input_object  # before its fields: an input may contain itself
        for field_name, field in object_type.fields.items():
            plan.append(
                (
                    field_name,
                    field.out_name or field_name,
                    field,
                    is_required_input_field(field),
                    _coercer(field.type),
                )
            )
        names = frozenset(object_type.fields)
        return input_object
    elif is_leaf_type(type_):
        leaf = type_

        def leaf_value(value: Any) -> Any:
            if value is None or value is Undefined:
                return None
            try:
                return leaf.coerce_input_value(value)
            except Exception:
                return Undefined

        made = leaf_value
    else:  # oneOf input objects, anything unforeseen: graphql-core's own
        from graphql.utilities.coerce_input_value import coerce_input_value

        stock_type = type_

        def stock(value: Any) -> Any:
            return coerce_input_value(value, stock_type)

        made = stock
    _COERCERS[key] = made
    return made


def fast_coerce_input_value(value: Any, type_: Any) -> Any:
    """``graphql.utilities.coerce_input_value`` through a coercer made once per type."""
    return _coercer(type_)(value)


_DEPTHS: dict[tuple[Any, ...], int | None] = {}


def _static_depth(type_: Any, seen: frozenset[Any] = frozenset()) -> int | None:
    """The deepest level graphql-core's ``input_is_nested_too_deeply`` can reach
    for a value of ``type_`` (lists and input objects each add one, whatever the
    value), or None when an input object can contain itself (no bound)."""
    from graphql import GraphQLInputObjectType, GraphQLList, GraphQLNonNull

    if isinstance(type_, GraphQLNonNull):
        return _static_depth(type_.of_type, seen)
    if isinstance(type_, GraphQLList):
        inner = _static_depth(type_.of_type, seen)
        return None if inner is None else inner + 1
    if isinstance(type_, GraphQLInputObjectType):
        if type_ in seen:
            return None
        deepest = 0
        for field in type_.fields.values():
            inner = _static_depth(field.type, seen | {type_})
            if inner is None:
                return None
            deepest = max(deepest, inner + 1)
        return deepest
    return 0


def fast_input_is_nested_too_deeply(value: Any, type_: Any, stock: Any) -> bool:
    """``input_is_nested_too_deeply(value, type_)`` (``stock``), answered False
    without walking the value when no value of ``type_`` can be nested that deep."""
    from graphql import GraphQLList, GraphQLNonNull
    from graphql.execution.values import MAX_NESTING_DEPTH

    key: tuple[Any, ...] = ()
    named = type_
    while isinstance(named, (GraphQLNonNull, GraphQLList)):
        key += ("!" if isinstance(named, GraphQLNonNull) else "[]",)
        named = named.of_type
    key += (named,)
    if key not in _DEPTHS:
        _DEPTHS[key] = _static_depth(type_)
    depth = _DEPTHS[key]
    if depth is not None and depth <= MAX_NESTING_DEPTH:
        return False
    answer: bool = stock(value, type_)
    return answer


def install_fast_variable_coercion() -> bool:
    """Make graphql-core's variable coercion (the ``coerce_input_value`` that its
    private ``graphql.execution.values`` module calls) use ``fast_coerce_input_value``
    while ``fast_variable_coercion()`` is on, graphql-core's own otherwise. When
    that module does not call the expected function, nothing is replaced and this
    returns False (variables are then coerced as stock). Idempotent."""
    try:
        from graphql.execution import values
        from graphql.utilities.coerce_input_value import coerce_input_value as stock
    except ImportError:  # pragma: no cover
        return False
    current = getattr(values, "coerce_input_value", None)
    if getattr(current, _FAST_COERCION_MARK, False):
        return True
    if current is not stock or _parameters(stock) != ["input_value", "type_"]:
        return False

    def coerce_input_value(input_value: Any, type_: Any) -> Any:
        if _FAST_COERCION.get():
            return fast_coerce_input_value(input_value, type_)
        return stock(input_value, type_)

    setattr(coerce_input_value, _FAST_COERCION_MARK, True)
    values.coerce_input_value = coerce_input_value
    nested = getattr(values, "input_is_nested_too_deeply", None)
    if (
        callable(nested)
        and _parameters(nested) == ["value", "type_"]
        and isinstance(getattr(values, "MAX_NESTING_DEPTH", None), int)
    ):
        stock_nested = nested

        def input_is_nested_too_deeply(value: Any, type_: Any) -> bool:
            if _FAST_COERCION.get():
                return fast_input_is_nested_too_deeply(value, type_, stock_nested)
            answer: bool = stock_nested(value, type_)
            return answer

        values.input_is_nested_too_deeply = input_is_nested_too_deeply
    return True


class fast_variable_coercion:
    """``with fast_variable_coercion(): ...``: variables coerced in this block
    (and its context) go through ``fast_coerce_input_value``."""

    def __enter__(self) -> None:
        self._token = _FAST_COERCION.set(True)

    def __exit__(self, *_: Any) -> None:
        _FAST_COERCION.reset(self._token)


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


# --- the read-query compiler (graphql/compiled/) -------------------------------------

# It answers root fields in graphql-core's execution context, where the root fields
# are executed once the document is validated and the variables coerced
# (``execute_root_grouped_field_set``, private in graphql-core 3.3), and collects
# a field's sub-selections as the executor does (``collect_subfields``).
COMPILED_ROOT_METHOD = (
    "execute_root_grouped_field_set",
    ("root_type", "root_value", "grouped_field_set", "serially", "position_context"),
)

try:
    from graphql.execution.collect_fields import collect_subfields
except ImportError:  # pragma: no cover - another graphql-core
    collect_subfields = None  # type: ignore[assignment]


@cache
def compiler_available() -> bool:
    """Whether graphql-core has what the compiler needs; else (one warning)
    every query takes the executor."""
    found = None
    if StrawberryExecutionContext is None or collect_subfields is None:
        found = Missing("graphql-core execution context / collect_subfields", "missing")
    else:
        name, expected = COMPILED_ROOT_METHOD
        found = _method(StrawberryExecutionContext, name, expected, "graphql-core ExecutionContext")
    if found is not None:
        logger.warning("query compilation is off: %s: %s", found.symbol, found.problem)
        return False
    return True
