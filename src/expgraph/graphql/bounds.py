"""Caps on every list a request can send, checked before any input is converted.

Every list-typed argument and input field of the schema has a maximum length,
stated in its description ("At most N items."):

- a list declared with ``capped(n)`` (input fields) or ``capped_argument(n)``
  (arguments) holds at most ``n`` items;
- a list of enum values holds at most as many items as the enum has values;
- a list of orderings (an input whose ``field`` is an enum, e.g. ``orderBy``)
  holds at most as many items as there are fields to order by;
- a filter's ``and`` / ``or`` (a list of the filter's own type) holds at most
  ``MAX_FILTER_BRANCHES`` items.

Filters (input types that contain themselves) also nest at most
``MAX_FILTER_DEPTH`` levels deep and hold at most ``MAX_FILTER_NODES`` filter
objects in one argument, so one filter compiles to a statement of bounded size.

``ListCaps`` enforces all of it on the raw request, before graphql-core coerces
the variables and before strawberry converts arguments into inputs: it walks the
selected operation's arguments (literals in the document, and the raw JSON of
the variables they name) once, linearly in the size of the request, and refuses
the operation with BAD_REQUEST naming the argument or field (a list of 50,000
items is refused by its length, without looking at its items).
``apply_list_caps(schema)`` writes the caps into the schema's descriptions; a
test walks the schema so that no list goes without one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import SchemaExtension

from expgraph import compat

MAX_ITEMS = "expgraph.max_items"  # metadata key of a declared cap
MAX_FILTER_BRANCHES = 20
MAX_FILTER_DEPTH = 8
MAX_FILTER_NODES = 100
# A list the schema gives no cap (a test forbids it) is still held to this.
UNDECLARED_MAX_ITEMS = 1000


def capped(max_items: int, **field_kwargs: Any) -> Any:
    """``strawberry.field`` for a list input field of at most ``max_items`` items."""
    return strawberry.field(metadata={MAX_ITEMS: max_items}, **field_kwargs)


def capped_argument(max_items: int, **argument_kwargs: Any) -> Any:
    """``strawberry.argument`` (use in ``Annotated``) for a list argument of at
    most ``max_items`` items."""
    return strawberry.argument(metadata={MAX_ITEMS: max_items}, **argument_kwargs)


def _unwrap(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return type_


def _is_list(type_: Any) -> bool:
    return isinstance(_unwrap(type_), GraphQLList)


def _declared(definition: GraphQLArgument | GraphQLInputField) -> int | None:
    backref = compat.definition_of(definition)  # strawberry's definition behind it
    metadata = getattr(backref, "metadata", None) or {}
    value = metadata.get(MAX_ITEMS)
    return int(value) if value is not None else None


def _rule(item: GraphQLNamedType, owner: GraphQLNamedType) -> int | None:
    """The cap a list of ``item`` inside ``owner`` gets by the kernel's rules."""
    if item is owner:
        return MAX_FILTER_BRANCHES  # a filter's and / or
    if isinstance(item, GraphQLEnumType):
        return len(item.values)
    if isinstance(item, GraphQLInputObjectType):
        by = item.fields.get("field")
        if by is not None and isinstance(_unwrap(by.type), GraphQLEnumType):
            return len(_unwrap(by.type).values)  # orderings: each field once
    return None


@dataclass
class Caps:
    """The schema's list caps by position, worked out once per schema."""

    arguments: dict[tuple[str, str, str], int] = field(default_factory=dict)
    input_fields: dict[tuple[str, str], int] = field(default_factory=dict)
    recursive: set[str] = field(default_factory=set)  # filter-like input types
    undeclared: list[str] = field(default_factory=list)  # "Type.field(arg)" without a cap


def _contains_itself(type_: GraphQLInputObjectType) -> bool:
    seen: set[str] = set()
    stack = [type_]
    while stack:
        current = stack.pop()
        for input_field in current.fields.values():
            named = get_named_type(input_field.type)
            if named is type_:
                return True
            if isinstance(named, GraphQLInputObjectType) and named.name not in seen:
                seen.add(named.name)
                stack.append(named)
    return False


def _cap_of(
    definition: GraphQLArgument | GraphQLInputField, owner: GraphQLNamedType, where: str, caps: Caps
) -> int | None:
    cap = _declared(definition)
    if cap is None:
        cap = _rule(get_named_type(definition.type), owner)
    if cap is None:
        caps.undeclared.append(where)
    return cap


def _work_out(schema: GraphQLSchema) -> Caps:
    caps = Caps()
    for name, type_ in schema.type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field_def in type_.fields.items():
                for arg_name, arg in field_def.args.items():
                    if _is_list(arg.type):
                        where = f"{name}.{field_name}({arg_name})"
                        cap = _cap_of(arg, type_, where, caps)
                        if cap is not None:
                            caps.arguments[name, field_name, arg_name] = cap
        elif isinstance(type_, GraphQLInputObjectType):
            if _contains_itself(type_):
                caps.recursive.add(name)
            for field_name, input_field in type_.fields.items():
                if _is_list(input_field.type):
                    cap = _cap_of(input_field, type_, f"{name}.{field_name}", caps)
                    if cap is not None:
                        caps.input_fields[name, field_name] = cap
    return caps


_CAPS: WeakKeyDictionary[GraphQLSchema, Caps] = WeakKeyDictionary()


def caps_of(schema: GraphQLSchema) -> Caps:
    caps = _CAPS.get(schema)
    if caps is None:
        caps = _CAPS[schema] = _work_out(schema)
    return caps


def _say(description: str | None, cap: int) -> str:
    sentence = f"At most {cap:,} items."
    if description and sentence in description:
        return description
    return f"{description.rstrip()} {sentence}" if description else sentence


def apply_list_caps(schema: strawberry.Schema) -> None:
    """Write every list's cap into its description (SDL and introspection)."""
    core = compat.graphql_schema(schema)
    caps = caps_of(core)
    for (type_name, field_name, arg_name), cap in caps.arguments.items():
        owner: Any = core.type_map[type_name]
        arg = owner.fields[field_name].args[arg_name]
        arg.description = _say(arg.description, cap)
    for (type_name, field_name), cap in caps.input_fields.items():
        input_type: Any = core.type_map[type_name]
        input_field = input_type.fields[field_name]
        input_field.description = _say(input_field.description, cap)


class TooLarge(Exception):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class _Walk:
    schema: GraphQLSchema
    caps: Caps
    variables: Mapping[str, Any]
    defaults: Mapping[str, ValueNode]
    fragments: Mapping[str, FragmentDefinitionNode]
    seen_fragments: set[str] = field(default_factory=set)

    def selections(self, selection_set: SelectionSetNode | None, parent: Any) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                self.selections(selection.selection_set, inner)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in self.seen_fragments:
                    continue  # each fragment is walked once
                self.seen_fragments.add(name)
                inner = self.schema.get_type(fragment.type_condition.name.value)
                self.selections(fragment.selection_set, inner)

    def field(self, node: FieldNode, parent: Any) -> None:
        fields = getattr(parent, "fields", None)
        field_def = fields.get(node.name.value) if fields else None
        if field_def is None:
            return  # __typename, introspection: nothing capped
        for argument in node.arguments or ():
            arg_name = argument.name.value
            arg_def = field_def.args.get(arg_name)
            if arg_def is None:
                continue
            cap = self.caps.arguments.get((parent.name, node.name.value, arg_name))
            self.literal(argument.value, arg_def.type, cap, arg_name, _Budget())
        self.selections(node.selection_set, get_named_type(field_def.type))

    def literal(
        self, node: ValueNode, type_: Any, cap: int | None, where: str, budget: _Budget
    ) -> None:
        """A value written in the document (a variable in it is looked up)."""
        if isinstance(node, VariableNode):
            name = node.name.value
            if name in self.variables:
                self.raw(self.variables[name], type_, cap, where, budget)
            elif name in self.defaults:
                self.literal(self.defaults[name], type_, cap, where, budget)
            return
        type_ = _unwrap(type_)
        if isinstance(type_, GraphQLList):
            items = node.values if isinstance(node, ListValueNode) else [node]
            _check_length(len(items), cap, where)
            for item in items:
                self.literal(item, type_.of_type, None, where, budget)
        elif isinstance(type_, GraphQLInputObjectType) and isinstance(node, ObjectValueNode):
            with budget.entering(type_, self.caps, where):
                for object_field in node.fields:
                    name = object_field.name.value
                    input_field = type_.fields.get(name)
                    if input_field is not None:
                        self.literal(
                            object_field.value,
                            input_field.type,
                            self.caps.input_fields.get((type_.name, name)),
                            f"{where}.{name}",
                            budget,
                        )

    def raw(self, value: Any, type_: Any, cap: int | None, where: str, budget: _Budget) -> None:
        """A value of the request's variables, as decoded from its JSON."""
        type_ = _unwrap(type_)
        if isinstance(type_, GraphQLList):
            items = value if isinstance(value, list) else [value]
            _check_length(len(items), cap, where)
            item_type = _unwrap(type_.of_type)
            if isinstance(item_type, GraphQLInputObjectType | GraphQLList):
                for item in items:
                    self.raw(item, item_type, None, where, budget)
        elif isinstance(type_, GraphQLInputObjectType) and isinstance(value, dict):
            with budget.entering(type_, self.caps, where):
                fields = type_.fields
                for name, item in value.items():
                    input_field = fields.get(name)
                    # a leaf field (scalar, enum) has nothing to check: no call
                    if (
                        input_field is not None
                        and item is not None
                        and isinstance(
                            _unwrap(input_field.type), GraphQLList | GraphQLInputObjectType
                        )
                    ):
                        self.raw(
                            item,
                            input_field.type,
                            self.caps.input_fields.get((type_.name, name)),
                            f"{where}.{name}",
                            budget,
                        )


def _check_length(length: int, cap: int | None, where: str) -> None:
    limit = cap if cap is not None else UNDECLARED_MAX_ITEMS
    if length > limit:
        raise TooLarge(f"{where} holds {length:,} items; at most {limit:,} are allowed", where)


@dataclass
class _Budget:
    """Filter objects met so far in one argument, and how deep they nest."""

    nodes: int = 0
    depth: int = 0

    @contextmanager
    def entering(self, type_: GraphQLInputObjectType, caps: Caps, where: str) -> Iterator[None]:
        if type_.name not in caps.recursive:
            yield
            return
        self.nodes += 1
        self.depth += 1
        try:
            if self.depth > MAX_FILTER_DEPTH:
                raise TooLarge(
                    f"{where}: filters nest at most {MAX_FILTER_DEPTH} levels deep", where
                )
            if self.nodes > MAX_FILTER_NODES:
                raise TooLarge(
                    f"{where}: a filter holds at most {MAX_FILTER_NODES} conditions groups", where
                )
            yield
        finally:
            self.depth -= 1


def check_lists(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
) -> None:
    """Raise ``TooLarge`` when the operation sends a list past its cap, or a
    filter past its size; nothing for a document graphql-core will refuse anyway."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return
    operation = operations[0]
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    walk = _Walk(
        schema,
        caps_of(schema),
        variables if isinstance(variables, Mapping) else {},
        {
            d.variable.name.value: d.default_value
            for d in operation.variable_definitions or ()
            if d.default_value is not None
        },
        {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)},
    )
    walk.selections(operation.selection_set, root)


class ListCaps(SchemaExtension):
    """Refuses, before any input is coerced or converted, an operation that sends
    a list longer than its cap or a filter past its size (BAD_REQUEST, with the
    argument or input field named in ``extensions.field``)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            try:
                check_lists(
                    compat.graphql_schema(context.schema),
                    document,
                    context.variables,
                    context.operation_name,
                )
            except TooLarge as refused:
                context.result = ExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            refused.message,
                            extensions={"code": "BAD_REQUEST", "field": refused.field},
                        )
                    ],
                )
        yield
