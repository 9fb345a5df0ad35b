"""A faster execution path for plain fields and plain resolvers.

graphql-core executes every field the same way: a ``Path``, a resolve info, the
resolver, then ``complete_value`` through the non-null and leaf branches. For
the bulk of a list page, the fields are *plain*: a scalar or enum read straight
off the source object by strawberry's default resolver, with no arguments,
permissions or extensions. :class:`Executor` computes those in one tight loop
(``getattr`` then the leaf type's output coercion) and hands every other field,
and every plain field whose value is not simply valid (null on a non-null
field, an attribute error, a value the scalar refuses), to graphql-core's own
path, so results and errors are exactly graphql-core's.

Objects and lists of objects read straight off the source (a connection's
``edges``, an edge's ``node``) are completed the same way: their sub-fields go
through ``execute_fields`` directly, without a resolve info, resolver call or
completion chain per object; an interface's object type is read off the
object's strawberry type. So are relationship fields loaded ahead for a page
(``graphql/prefetch.py``): their value comes from their loader's cache; one
not loaded ahead takes the ordinary path.

:func:`install_lean_resolvers` does the same for fields with a resolver but
nothing around it (no permissions, extensions or exception handlers):
graphql-core calls the resolver directly, without strawberry's wrapper and its
extra coroutine (arguments other than built-in scalars still go through
strawberry's own conversion).

Inside a list, an object's async fields are awaited in turn rather than as a
task each (see ``Executor._await_in_turn``): the list's items are tasks already.
``tests/test_executor.py`` runs documents through this and through strawberry's
stock path and compares data and errors.

What this needs of graphql-core and strawberry beyond their public API (the
execution context's methods it overrides and calls, strawberry's definitions
behind graphql-core's fields, its default-resolver mark, argument conversion and
``Info`` internals) comes from ``expgraph.compat``, which checks it at startup.
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
    GraphQLUnionType,
    get_argument_values,
    is_leaf_type,
    specified_scalar_types,
)
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry import Schema

from expgraph import compat
from expgraph.graphql.prefetch import NOT_LOADED, PREFETCH_ATTR

_PLAN = "_expgraph_plain_fields"
_LEAN = "_expgraph_lean"


class LoadedField(NamedTuple):
    """A leaf field whose value a loader loads (ahead, for a whole page)."""

    attribute: str
    leaf: GraphQLLeafType
    nullable: bool
    prefetch: Any = None  # a field loaded ahead: its value from its loader
    takes_arguments: bool = False  # ... for the arguments it is given


class ObjectField(NamedTuple):
    """An object, or a list of objects, read straight off the source."""

    attribute: str
    return_type: Any  # the field's type
    nullable: bool
    listed: bool
    item_type: Any  # the list's item type (wrapped), or the field's type
    object_type: GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType
    prefetch: Any = None
    takes_arguments: bool = False


class PlainField(NamedTuple):
    """A plain field read straight off its source's attribute."""

    attribute: str
    serialize: Any  # the leaf type's output coercion (a faster equivalent)
    nullable: bool


FieldPlan = PlainField | LoadedField | ObjectField

_ATTRIBUTE, _PLAIN, _OBJECT, _TYPENAME, _SLOW = "attribute", "plain", "object", "typename", "slow"


class _Step(NamedTuple):
    response_name: str
    field_details_list: Any
    kind: str
    plan: Any


def fast_serializer(leaf: GraphQLLeafType) -> Any:
    """``leaf.coerce_output_value``, with the common values answered directly:
    a ``str`` for String and ID, an ``int`` in range for Int, a ``bool`` for
    Boolean, a member of a strawberry enum by a lookup instead of a scan.
    Anything else goes to the type's own coercion."""
    coerce = leaf.coerce_output_value
    if leaf is GraphQLString or leaf is GraphQLID:

        def text(value: Any) -> Any:
            return value if type(value) is str else coerce(value)

        return text
    if leaf is GraphQLInt:

        def integer(value: Any) -> Any:
            if type(value) is int and -(2**31) <= value < 2**31:
                return value
            return coerce(value)

        return integer
    if leaf is GraphQLBoolean:

        def boolean(value: Any) -> Any:
            return value if type(value) is bool else coerce(value)

        return boolean
    wrapped = getattr(leaf, "wrapped_cls", None)  # strawberry's enums
    if isinstance(leaf, GraphQLEnumType) and isinstance(wrapped, type):
        names = {}
        for member in cast("Any", wrapped):
            try:
                names[member] = coerce(member)
            except Exception:
                continue

        def enum(value: Any) -> Any:
            name = names.get(value) if type(value) is wrapped else None
            return name if name is not None else coerce(value)

        return enum
    return coerce


def plain_field(field: GraphQLField) -> FieldPlan | None:
    """How to read ``field`` directly, or None when it needs the full path."""
    strawberry_field = compat.definition_of(field)
    if strawberry_field is None or field.subscribe is not None:
        return None
    prefetch = None
    if getattr(field.resolve, _LEAN, False):
        # A relationship loaded ahead (graphql/prefetch.py) with nothing around
        # its resolver: its value is read from its loader (for its arguments).
        prefetch = getattr(strawberry_field.base_resolver.wrapped_func, PREFETCH_ATTR, None)
        if prefetch is None:
            return None
    elif field.args or (
        not compat.is_default_resolver(field.resolve)
        or strawberry_field.default_resolver is not getattr
    ):
        return None
    field_type = field.type
    nullable = not isinstance(field_type, GraphQLNonNull)
    named = _named(field_type)
    if is_leaf_type(named):
        if prefetch is None:
            return PlainField(strawberry_field.python_name, fast_serializer(named), nullable)
        return LoadedField(
            strawberry_field.python_name, named, nullable, prefetch, bool(field.args)
        )
    listed = isinstance(named, GraphQLList)
    item_type = named.of_type if listed else field_type
    item = _named(item_type)
    if isinstance(item, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
        return ObjectField(
            strawberry_field.python_name,
            field_type,
            nullable,
            listed,
            item_type,
            item,
            prefetch,
            bool(field.args),
        )
    return None


def plain_fields(object_type: GraphQLObjectType) -> dict[str, FieldPlan | None]:
    """The plain fields of an object type, worked out once and kept on the type."""
    plan: dict[str, FieldPlan | None] | None = object_type.__dict__.get(_PLAN)
    if plan is None:
        plan = {name: plain_field(field) for name, field in object_type.fields.items()}
        setattr(object_type, _PLAN, plan)
    return plan


class Executor(compat.StrawberryExecutionContext):
    """graphql-core's executor with plain fields, object fields read off their
    source and fields loaded ahead completed inline and, inside lists, async
    fields awaited in turn."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        """graphql-core's ``build`` (variables coerced, the execution made), with the
        variables coerced by ``compat.fast_coerce_input_value``."""
        with compat.fast_variable_coercion():
            return super().build(*args, **kwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # Field middleware wraps every resolver: then no field is plain.
        self._fast = manager is None or not manager.middlewares
        self._bound: dict[int, tuple[Any, Any]] = {}
        self._step_cache: dict[tuple[int, int], tuple[Any, list[_Step]]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if not self._fast:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        slow: dict[str, Any] = {}
        pending: list[str] = []
        inline_objects = self.abort_signal is None
        try:
            for response_name, field_details_list, kind, plan in self._steps(
                parent_type, grouped_field_set
            ):
                if kind is _ATTRIBUTE:  # the bulk of a page: _read, inlined
                    try:
                        value = getattr(source_value, plan.attribute)
                        if value is None:
                            if plan.nullable:
                                results[response_name] = None
                                continue
                        else:
                            value = plan.serialize(value)
                            if value is not None and value is not Undefined:
                                results[response_name] = value
                                continue
                    except Exception:
                        pass  # graphql-core's path raises it again, located
                elif kind is _PLAIN:
                    value = self._read(source_value, plan)
                    if value is not Undefined:
                        results[response_name] = value
                        continue
                elif kind is _OBJECT:
                    if inline_objects:
                        value = self._inline(
                            plan,
                            parent_type,
                            source_value,
                            field_details_list,
                            Path(path, response_name, parent_type.name),
                        )
                        if value is not Undefined:
                            results[response_name] = value
                            if self.is_awaitable(value):
                                pending.append(response_name)
                            continue
                elif kind is _TYPENAME:
                    results[response_name] = parent_type.name
                    continue
                results[response_name] = None  # keeps the response's field order
                slow[response_name] = field_details_list
        except Exception:
            if pending:
                self.settle_in_background([results[name] for name in pending])
            raise
        if not slow and not pending:
            return results
        if self.abort_signal is not None:  # (then nothing was inlined: no pending)
            rest = super().execute_fields(parent_type, source_value, path, slow, position_context)
            if self.is_awaitable(rest):

                async def merged() -> dict[str, Any]:
                    results.update(await rest)
                    return results

                return merged()
            results.update(cast("dict[str, Any]", rest))
            return results
        try:
            for response_name, field_details_list in slow.items():
                field_path = Path(path, response_name, parent_type.name)
                result = self.execute_field(
                    parent_type, source_value, field_details_list, field_path, position_context
                )
                if result is Undefined:
                    del results[response_name]
                    continue
                results[response_name] = result
                if self.is_awaitable(result):
                    pending.append(response_name)
        except Exception:
            if pending:
                self.settle_in_background([results[name] for name in pending])
            raise
        if not pending:
            return results
        if len(pending) == 1 or _in_list_item(path):
            return self._await_in_turn(results, pending)
        return self._gather(results, pending)

    def _steps(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[_Step]:
        """How to complete each field of ``grouped_field_set`` on ``parent_type``:
        worked out once per request and selection, not once per object."""
        key = (id(parent_type), id(grouped_field_set))
        found = self._step_cache.get(key)
        if found is None:
            plans = plain_fields(parent_type)
            steps = []
            for response_name, field_details_list in grouped_field_set.items():
                name = field_details_list[0].node.name.value
                plan = plans.get(name)
                kind = _SLOW
                if isinstance(plan, PlainField):
                    kind = _ATTRIBUTE
                elif isinstance(plan, LoadedField):
                    kind = _PLAIN
                elif isinstance(plan, ObjectField):
                    kind = _OBJECT
                elif name == "__typename":
                    kind = _TYPENAME
                steps.append(_Step(response_name, field_details_list, kind, plan))
            # (the grouped set is kept alive with its steps: its id stays its own)
            found = self._step_cache[key] = (grouped_field_set, steps)
        return found[1]

    def _inline(
        self,
        plan: ObjectField,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
    ) -> Any:
        """An object field read straight off ``source`` and completed here (its
        sub-fields through ``execute_fields``), or Undefined when anything about
        it is unusual: then graphql-core's path completes it (and reports what
        is wrong, exactly as it would)."""
        value = self._value(source, plan, field_details_list, parent_type)
        if value is None:
            return None if plan.nullable else Undefined
        if value is Undefined:
            return Undefined
        if not plan.listed:
            fields = self._object_fields(plan.object_type, value, field_details_list)
            if fields is None:
                return Undefined
            return self._guarded(plan.return_type, field_details_list, path, fields, value)
        if not isinstance(value, list) or self.get_stream_usage(field_details_list, path):
            return Undefined
        item_nullable = not isinstance(plan.item_type, GraphQLNonNull)
        planned: list[tuple[GraphQLObjectType, Any] | None] = []
        for item in value:
            if item is None:
                if not item_nullable:
                    return Undefined
                planned.append(None)
                continue
            fields = self._object_fields(plan.object_type, item, field_details_list)
            if fields is None:
                return Undefined
            planned.append(fields)
        try:
            completed: list[Any] = []
            awaiting: list[int] = []
            for index, (item, fields) in enumerate(zip(value, planned, strict=True)):
                if fields is None:
                    completed.append(None)
                    continue
                done = self._guarded(
                    plan.item_type, field_details_list, path.add_key(index, None), fields, item
                )
                completed.append(done)
                if self.is_awaitable(done):
                    awaiting.append(index)
        except Exception as error:
            self.settle_in_background([completed[index] for index in awaiting])
            self.handle_field_error(error, plan.return_type, field_details_list, path)
            return None
        if not awaiting:
            return completed
        return self._list_later(plan.return_type, field_details_list, path, completed, awaiting)

    def _object_fields(
        self, object_type: Any, value: Any, field_details_list: Any
    ) -> tuple[GraphQLObjectType, Any] | None:
        """``(runtime type, grouped sub-fields)`` for completing ``value`` here, or
        None when graphql-core must (a type it cannot tell, a deferred fragment)."""
        if not isinstance(object_type, GraphQLObjectType):
            definition = getattr(type(value), "__strawberry_definition__", None)
            runtime = definition and self.schema.get_type(definition.name)
            if not isinstance(runtime, GraphQLObjectType) or not self.schema.is_sub_type(
                object_type, runtime
            ):
                return None
            object_type = runtime
        is_type_of = object_type.is_type_of
        if is_type_of is not None:
            matches = is_type_of(value, None)
            if matches is not True:
                return None
        grouped, defer_usages, *_ = self.collect_subfields(object_type, field_details_list)
        if defer_usages:
            return None
        return object_type, grouped

    def _guarded(
        self,
        return_type: Any,
        field_details_list: Any,
        path: Path,
        fields: tuple[GraphQLObjectType, Any],
        value: Any,
    ) -> Any:
        """``value``'s sub-fields, with a failure handled as graphql-core handles
        a field's: null and an error where the type allows, else raised on."""
        object_type, grouped = fields
        try:
            done = self.execute_fields(object_type, value, path, grouped, None)
        except Exception as error:
            self.handle_field_error(error, return_type, field_details_list, path)
            return None
        if self.is_awaitable(done):
            return self._later(return_type, field_details_list, path, done)
        return done

    async def _later(self, return_type: Any, field_details_list: Any, path: Path, done: Any) -> Any:
        try:
            return await done
        except Exception as error:
            self.handle_field_error(error, return_type, field_details_list, path)
            return None

    async def _list_later(
        self,
        return_type: Any,
        field_details_list: Any,
        path: Path,
        completed: list[Any],
        awaiting: list[int],
    ) -> Any:
        """A list's items that are still being completed, side by side (their
        DataLoader keys land in one batch)."""
        try:
            values = await gather_with_cancel(*(completed[index] for index in awaiting))
        except Exception as error:
            self.handle_field_error(error, return_type, field_details_list, path)
            return None
        for index, item in zip(awaiting, values, strict=True):
            completed[index] = item
        return completed

    @staticmethod
    async def _gather(results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
        """Sibling fields side by side (they may share a DataLoader batch)."""
        values = await gather_with_cancel(*(results[name] for name in pending))
        results.update(zip(pending, values, strict=True))
        return results

    @staticmethod
    async def _await_in_turn(results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
        """An object's awaitable fields, one after the other in this task.

        graphql-core gathers them, one task each. Batching does not need it
        inside a list: the list's items run as tasks of their own, side by side,
        so each field's DataLoader still gets the keys of every item in one
        batch. The batches may split where items get out of step (two fields of
        one object on the same loader; a value already loaded earlier in the
        request lets its item run a batch ahead): a few more statements at
        worst, never one per item. When a non-null field fails, the others still
        finish (their own errors are reported, as when they run side by side)
        before the failure nulls the object.
        """
        failure: Exception | None = None
        for index, name in enumerate(pending):
            try:
                results[name] = await results[name]
            except Exception as error:  # a non-null field failed: the object is null
                failure = failure or error
            except BaseException:  # cancelled: the rest never runs
                for rest in pending[index + 1 :]:
                    getattr(results[rest], "close", lambda: None)()
                raise
        if failure is not None:
            raise failure
        return results

    def _value(
        self,
        source: Any,
        plan: LoadedField | ObjectField,
        field_details_list: Any = None,
        parent_type: GraphQLObjectType | None = None,
    ) -> Any:
        """The field's raw value, or Undefined to take graphql-core's path."""
        try:
            if plan.prefetch is None:
                return getattr(source, plan.attribute)
            prefetch = plan.prefetch
            if plan.takes_arguments:
                if parent_type is None:
                    return Undefined
                prefetch = self._bind(prefetch, parent_type, field_details_list)
                if prefetch is None:
                    return Undefined
            value = prefetch.ready(self.context_value, source.record)
        except Exception:
            return Undefined
        return Undefined if value is NOT_LOADED else value  # not loaded: the ordinary path

    def _bind(self, ahead: Any, parent_type: GraphQLObjectType, field_details_list: Any) -> Any:
        """``ahead`` for this selection's arguments (the same for every object
        completed with ``field_details_list``): worked out once per request."""
        found = self._bound.get(id(field_details_list))
        if found is None:
            node = field_details_list[0].node
            definition = parent_type.fields[node.name.value]
            values = get_argument_values(definition, node, self.variable_values)
            arguments = {
                name: values[argument.out_name or name]
                for name, argument in definition.args.items()
                if (argument.out_name or name) in values
            }
            found = (field_details_list, ahead.bind(self.context_value, arguments))
            self._bound[id(field_details_list)] = found  # (the list kept alive with it)
        return found[1]

    def _read(self, source: Any, plan: LoadedField) -> Any:
        """The completed value of a plain field, or Undefined to take the full path."""
        value = self._value(source, plan)
        if value is None:
            # Null on a non-null field: graphql-core raises the error.
            return None if plan.nullable else Undefined
        if value is Undefined:
            return Undefined
        try:
            coerced = plan.leaf.coerce_output_value(value)
        except Exception:
            return Undefined  # graphql-core raises it again, located, with its path
        if coerced is None or coerced is Undefined:
            return Undefined
        return coerced


def _in_list_item(path: Path | None) -> bool:
    """Whether the object at ``path`` is (inside) an item of a list."""
    while path is not None:
        if isinstance(path.key, int):
            return True
        path = path.prev
    return False


def lean_resolver(field: GraphQLField, schema: Schema) -> Any | None:
    """A direct call of ``field``'s strawberry resolver, or None when strawberry's
    wrapper does work for it (permissions, extensions)."""
    strawberry_field = compat.definition_of(field)
    if strawberry_field is None or field.subscribe is not None:
        return None
    resolver = strawberry_field.base_resolver
    if resolver is None or strawberry_field.extensions or not callable(resolver.wrapped_func):
        return None
    info_class = schema.config.info_class
    python_names: dict[str, str] = {}
    for name, argument in field.args.items():
        definition = compat.definition_of(argument)
        if definition is None:
            return None
        python_names[argument.out_name or name] = definition.python_name
    # Built-in scalars arrive as they are; anything else (input objects, enums,
    # custom scalars) goes through strawberry's own argument conversion, when given.
    converted = {
        argument.out_name or name: (name, compat.definition_of(argument))
        for name, argument in field.args.items()
        if _named(argument.type) not in specified_scalar_types.values()
    }
    call = resolver.wrapped_func
    takes_self = resolver.self_parameter is not None
    source_names = [p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p]
    info_name = resolver.info_parameter.name if resolver.info_parameter else None

    def resolve(source: Any, info: Any, **arguments: Any) -> Any:
        strawberry_info = None
        if info_name is not None:
            strawberry_info = compat.strawberry_info(info_class, info, strawberry_field)
        kwargs = {python_names[name]: value for name, value in arguments.items()}
        for key, (name, definition) in converted.items():
            value = arguments.get(key)
            if value is not None:  # null and absent need no conversion
                if strawberry_info is None:
                    strawberry_info = compat.strawberry_info(info_class, info, strawberry_field)
                kwargs.update(
                    compat.fast_convert_arguments(
                        {name: value},
                        [definition],
                        scalar_registry=schema.schema_converter.scalar_registry,
                        config=schema.config,
                        info=strawberry_info,
                    )
                )
        for name in source_names:
            kwargs[name] = source
        if info_name is not None:
            kwargs[info_name] = strawberry_info
        return call(source, **kwargs) if takes_self else call(**kwargs)

    setattr(resolve, _LEAN, True)
    return resolve


def _named(graphql_type: Any) -> Any:
    return graphql_type.of_type if isinstance(graphql_type, GraphQLNonNull) else graphql_type


def install_lean_resolvers(schema: Schema) -> int:
    """Give every eligible field its lean resolver; returns how many."""
    if schema.exception_handlers:  # strawberry's wrapper routes errors to them
        return 0
    installed = 0
    for graphql_type in compat.graphql_schema(schema).type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for field in graphql_type.fields.values():
            lean = lean_resolver(field, schema)
            if lean is not None:
                field.resolve = lean
                installed += 1
    return installed
