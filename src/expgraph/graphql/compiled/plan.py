"""Which root fields of a query compile, decided from the document, the
operation and the schema only (never the variables), once per document.

A root field compiles when every selection under it is covered (see the
package's docstring). The decision is strict: a field the planner does not
know, any argument it does not know, any directive anywhere in the document
(``@include``/``@skip`` included: the document's text holds no ``@``), a
mutation or subscription: the executor answers.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
)
from sqlalchemy import (
    BigInteger,
    Boolean,
    Double,
    Float,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import Enum as SQLEnum
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION
from sqlalchemy.types import TypeDecorator

from expgraph import compat
from expgraph.db.types import UTCDateTime
from expgraph.graphql import connections, prefetch
from expgraph.graphql.loaders import ChildLists, FirstChild, Relation, RowsById
from expgraph.graphql.permissions import RequiresPermission
from expgraph.graphql.relay import NodeSpec, registry
from expgraph.graphql.visibility import rule_for


class Unsupported(Exception):
    """What the compiler does not cover: the executor answers."""


# --- the plan's shapes ----------------------------------------------------------------


class Coerce(enum.Enum):
    """How a column's value becomes its GraphQL output."""

    PLAIN = "plain"  # String, Int: as stored
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    BIGINT = "bigint"
    JSON = "json"
    ENUM = "enum"
    FLOAT = "float"  # a double: as orjson writes the executor's Python float


@dataclass(frozen=True)
class Typename:
    key: str


@dataclass(frozen=True)
class GlobalId:
    key: str


@dataclass(frozen=True)
class Column:
    key: str
    attr: str  # the record attribute (a mapped column)
    coerce: Coerce
    enum_class: type[enum.Enum] | None = None
    required: bool = False  # non-null in GraphQL, nullable in the database


@dataclass(frozen=True)
class Related:
    """A to-one ``node_field``: the row of ``target`` whose id is ``attr``'s
    value (``RowsById``), or, with ``relation`` (``FirstChild``), the child of
    lowest id of ``relation`` whose parent is ``attr``'s value."""

    key: str
    attr: str
    target: ModelShape
    required: bool = False  # non-null in GraphQL: the executor answers an error for none
    relation: Relation | None = None


@dataclass(frozen=True, eq=False)  # by identity: its arguments are resolved per request
class ChildConnection:
    """A ``connection_field`` of a node: a page of ``declared.relation``'s children
    of the node's row, with the field's arguments (``field``, ``details``: coerced
    from the request's variables when compiled)."""

    key: str
    declared: connections.ListDeclaration
    field: Any
    details: Any
    node: ModelShape
    edge_type: str
    connection_type: str
    selection: tuple[tuple[str, str, Any], ...]  # (key, field, sub-selection)


@dataclass(frozen=True, eq=False)
class ChildList:
    """A ``list_field`` over ``ChildLists``: every child of the node's row the
    caller may read, in the spec's order (unique per parent)."""

    key: str
    lists: ChildLists
    node: ModelShape


@dataclass(frozen=True, eq=False)
class Derived:
    """A ``derived_field`` with an ``SqlRule``: a scalar or enum (``leaf``), or an
    object whose ``fields`` (key, Python name, leaf; None for ``__typename``)
    the rule gives."""

    key: str
    rule: prefetch.SqlRule
    leaf: Column | None
    type_name: str
    fields: tuple[tuple[str, str, Column | None], ...] = ()


Field = Typename | GlobalId | Column | Related | ChildConnection | ChildList | Derived


@dataclass(frozen=True)
class ObjectShape:
    """One node type's selection: its fields in response order."""

    spec: NodeSpec
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class ModelShape:
    """The rows of ``model`` as nodes: one shape per node type a row may be
    (``identity``: the discriminator value; None when the model is not
    polymorphic)."""

    model: type
    discriminator: str | None  # the discriminator's record attribute
    variants: tuple[tuple[Any, ObjectShape], ...]


@dataclass(frozen=True, eq=False)  # hashed by identity: statements are cached by plan
class NodeRoot:
    """``node(id:)``: the shape of every node type the id may name."""

    key: str
    shapes: dict[str, ModelShape]  # type name -> the rows of its model
    permissions: tuple[Any, ...]


@dataclass(frozen=True, eq=False)  # hashed by identity: statements are cached by plan
class ConnectionRoot:
    """A top-level connection made by ``connections.paged``."""

    key: str
    field_name: str
    declared: connections.ListDeclaration
    entity: type
    node: ModelShape
    edge_type: str
    connection_type: str
    selection: tuple[tuple[str, str, Any], ...]  # (key, field, sub-selection)
    permissions: tuple[Any, ...]


Root = NodeRoot | ConnectionRoot


# --- the decision, cached -------------------------------------------------------------

_CACHE_SIZE = 512
_cache: WeakKeyDictionary[GraphQLSchema, OrderedDict[tuple[str, str | None], Any]] = (
    WeakKeyDictionary()
)


def recall(cache: OrderedDict[Any, Any], key: Any) -> Any:
    """``cache[key]`` (None when absent), marked as just used."""
    found = cache.get(key)
    if found is not None:
        cache.move_to_end(key)
    return found


def remember(cache: OrderedDict[Any, Any], key: Any, value: Any, size: int) -> None:
    """Keep ``value`` under ``key`` in ``cache``, dropping the least recently used
    entry beyond ``size``."""
    cache[key] = value
    cache.move_to_end(key)
    if len(cache) > size:
        cache.popitem(last=False)


def root_plans(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Any,
    variable_values: Any,
    grouped_field_set: Any,
) -> dict[str, Root] | None:
    """The root fields of ``operation`` that compile, by response key (None or
    empty: none). Cached by the document's text and the operation's name; the
    collection of fields depends on variables only through directives, and a
    document with a directive compiles nothing."""
    if operation.operation != OperationType.QUERY or operation.loc is None:
        return None
    body = operation.loc.source.body
    key = (body, operation.name.value if operation.name else None)
    cache = _cache.setdefault(schema, OrderedDict())
    if key in cache:
        return recall(cache, key)
    plans: dict[str, Root] | None = None
    if "@" not in body:
        planner = _Planner(schema, operation, fragments, variable_values)
        plans = {}
        for response_key, details in grouped_field_set.items():
            try:
                plans[response_key] = planner.root(response_key, details)
            except Unsupported:
                continue
    remember(cache, key, plans, _CACHE_SIZE)
    return plans


# --- the planner ----------------------------------------------------------------------

_PAGE_FIELDS = {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"}


def _base_type(column_type: Any) -> Any:
    return column_type.impl_instance if isinstance(column_type, TypeDecorator) else column_type


class _Planner:
    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: Any,
        variable_values: Any,
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = fragments
        self.variables = variable_values

    def subfields(self, parent: GraphQLObjectType, details: Any) -> Any:
        collected = compat.collect_subfields(
            self.schema, self.fragments, self.variables, self.operation, parent, details
        )
        return collected[0] if isinstance(collected, tuple) else collected

    @staticmethod
    def _no_arguments(details: Any) -> None:
        if any(d.node.arguments for d in details):
            raise Unsupported("arguments")

    @staticmethod
    def _permissions(field: Any) -> tuple[Any, ...]:
        definition = compat.definition_of(field)
        if definition is None:
            raise Unsupported("no strawberry field")
        classes = tuple(definition.permission_classes or ())
        if not all(isinstance(c, type) and issubclass(c, RequiresPermission) for c in classes):
            raise Unsupported("a permission it does not know")
        return tuple(c.permission for c in classes)

    def root(self, key: str, details: Any) -> Root:
        query = self.schema.query_type
        assert query is not None
        name = details[0].node.name.value
        field = query.fields.get(name)
        if field is None:
            raise Unsupported(name)
        permissions = self._permissions(field)
        if name == "node":
            node_type = self.schema.get_type("Node")
            if not isinstance(node_type, GraphQLInterfaceType):
                raise Unsupported("Node")
            if any(a.name.value != "id" for d in details for a in d.node.arguments):
                raise Unsupported("node arguments")
            shapes = {
                spec.type_name: self.model_shape(spec.model, details) for spec in registry.specs()
            }
            return NodeRoot(key, shapes, permissions)
        return self.connection(key, name, field, details, permissions)

    def connection(
        self, key: str, name: str, field: Any, details: Any, permissions: tuple[Any, ...]
    ) -> ConnectionRoot:
        definition = compat.definition_of(field)
        declared = _declared(definition)
        if (
            not isinstance(declared, connections.ListDeclaration)
            or declared.listing is None
            or [e for e in definition.extensions if type(e).__name__ != "PermissionExtension"]
        ):
            raise Unsupported("not a paged connection")
        entity = declared.entity
        if not isinstance(entity, type) or rule_for(entity) is None:
            raise Unsupported("entity")
        connection_type, edge_type, selection, node = self.connection_selection(
            field, details, entity
        )
        return ConnectionRoot(
            key,
            name,
            declared,
            entity,
            node,
            edge_type,
            connection_type,
            selection,
            permissions,
        )

    def connection_selection(
        self, field: Any, details: Any, entity: type
    ) -> tuple[str, str, tuple[tuple[str, str, Any], ...], ModelShape]:
        """A connection's selection: its type's name, its edge type's name, what
        it selects and the shape of its nodes."""
        connection_type = _named(field.type)
        if not isinstance(connection_type, GraphQLObjectType):
            raise Unsupported("connection type")
        edge_type = _named(connection_type.fields["edges"].type)
        page_info_type = _named(connection_type.fields["pageInfo"].type)
        selection: list[tuple[str, str, Any]] = []
        node: ModelShape | None = None
        for sub_key, sub in self.subfields(connection_type, details).items():
            sub_name = sub[0].node.name.value
            self._no_arguments(sub)
            if sub_name in ("totalCount", "__typename"):
                selection.append((sub_key, sub_name, None))
            elif sub_name == "pageInfo":
                inner = []
                for info_key, info in self.subfields(page_info_type, sub).items():
                    info_name = info[0].node.name.value
                    if info_name not in _PAGE_FIELDS:
                        raise Unsupported(info_name)
                    inner.append((info_key, info_name))
                selection.append((sub_key, sub_name, tuple(inner)))
            elif sub_name == "edges":
                inner = []
                for edge_key, edge in self.subfields(edge_type, sub).items():
                    edge_name = edge[0].node.name.value
                    self._no_arguments(edge)
                    if edge_name == "node":
                        shape = self.model_shape(entity, edge)
                        if node is not None and shape != node:
                            raise Unsupported("two node selections")
                        node = shape
                    elif edge_name not in ("cursor", "__typename"):
                        raise Unsupported(edge_name)
                    inner.append((edge_key, edge_name))
                selection.append((sub_key, sub_name, tuple(inner)))
            else:
                raise Unsupported(sub_name)
        if node is None:
            node = ModelShape(entity, None, ())
        return connection_type.name, edge_type.name, tuple(selection), node

    def model_shape(self, model: type, details: Any) -> ModelShape:
        """The rows of ``model`` as the nodes the executor would make of them."""
        mapper: Any = sa_inspect(model)
        concrete = [
            m for m in mapper.self_and_descendants if not getattr(m, "polymorphic_abstract", False)
        ]
        if not concrete:
            raise Unsupported("no concrete mapper")
        discriminator = None
        if mapper.polymorphic_on is not None:
            discriminator = mapper.get_property_by_column(mapper.polymorphic_on).key
        elif len(concrete) > 1:
            raise Unsupported("inheritance without a discriminator")
        variants = []
        for m in concrete:
            spec = registry.for_model(m.class_)
            if spec is None or m.local_table is not mapper.local_table:
                raise Unsupported("a row class without its own node type")
            gql_type = self.schema.get_type(spec.type_name)
            if not isinstance(gql_type, GraphQLObjectType):
                raise Unsupported(spec.type_name)
            identity = m.polymorphic_identity if discriminator is not None else None
            variants.append((identity, self.object_shape(spec, gql_type, details)))
        return ModelShape(model, discriminator, tuple(variants))

    def object_shape(
        self, spec: NodeSpec, gql_type: GraphQLObjectType, details: Any
    ) -> ObjectShape:
        mapper: Any = sa_inspect(spec.model)
        attributes = dict(spec.fields)
        fields: list[Field] = []
        for key, sub in self.subfields(gql_type, details).items():
            name = sub[0].node.name.value
            if name == "__typename":
                self._no_arguments(sub)
                fields.append(Typename(key))
                continue
            field = gql_type.fields[name]
            definition = compat.definition_of(field)
            if definition is None or definition.extensions or definition.permission_classes:
                raise Unsupported(name)
            declared = _declared(definition)
            if isinstance(declared, connections.ListDeclaration) and declared.relation is not None:
                fields.append(self.child_connection(key, field, sub, declared))
                continue
            self._no_arguments(sub)
            if isinstance(declared, prefetch.ListLink):
                fields.append(self.child_list(key, field, sub, declared))
                continue
            if isinstance(declared, prefetch.SqlRule):
                fields.append(self.derived(key, field, sub, declared))
                continue
            if name == "id" and definition.base_resolver is None:
                fields.append(GlobalId(key))
                continue
            if definition.base_resolver is None:
                attr = attributes.get(definition.python_name)
                if attr is None:
                    raise Unsupported(name)
                column = self.column(key, mapper, attr, field.type)
                if (
                    isinstance(field.type, GraphQLNonNull)
                    and mapper.column_attrs[attr].columns[0].nullable
                ):
                    column = replace(column, required=True)
                fields.append(column)
                continue
            if not isinstance(declared, prefetch.NodeLink) or not isinstance(
                declared.spec, RowsById | FirstChild
            ):
                raise Unsupported(name)
            key_attr = declared.key_attr
            if key_attr not in mapper.column_attrs:
                raise Unsupported(name)
            required = isinstance(field.type, GraphQLNonNull)
            if isinstance(declared.spec, FirstChild):
                relation = declared.spec.relation
                if relation.through is not None or relation.parent_attr is None:
                    raise Unsupported(name)
                target = self.model_shape(relation.model, sub)
                fields.append(Related(key, key_attr, target, required, relation))
            else:
                target = self.model_shape(declared.spec.model, sub)
                fields.append(Related(key, key_attr, target, required))
        return ObjectShape(spec, tuple(fields))

    def child_connection(
        self, key: str, field: Any, details: Any, declared: connections.ListDeclaration
    ) -> ChildConnection:
        relation = declared.relation
        assert relation is not None
        entity = relation.model
        if rule_for(entity) is None:
            raise Unsupported("entity")
        known = {"filter", "orderBy", "first", "after", "last", "before"}
        if any(a.name.value not in known for d in details for a in d.node.arguments or ()):
            raise Unsupported("connection arguments")
        connection_type, edge_type, selection, node = self.connection_selection(
            field, details, entity
        )
        return ChildConnection(
            key, declared, field, details, node, edge_type, connection_type, selection
        )

    def child_list(
        self, key: str, field: Any, details: Any, declared: prefetch.ListLink
    ) -> ChildList:
        spec = declared.spec
        if not isinstance(spec, ChildLists) or rule_for(spec.relation.model) is None:
            raise Unsupported("a list it does not know")
        relation = spec.relation
        # The executor lists children in ``order_attr`` order: the same order
        # only when it is unique per parent.
        if spec.order_attr != "id":
            table: Any = sa_inspect(relation.model).local_table
            if relation.through is not None or relation.parent_attr is None:
                raise Unsupported("an order that may tie")
            mapper: Any = sa_inspect(relation.model)
            wanted = {
                mapper.column_attrs[relation.parent_attr].columns[0].name,
                mapper.column_attrs[spec.order_attr].columns[0].name,
            }
            unique = [
                {c.name for c in constraint.columns}
                for constraint in table.constraints
                if isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint)
            ] + [{c.name for c in index.columns} for index in table.indexes if index.unique]
            if wanted not in unique:
                raise Unsupported("an order that may tie")
        return ChildList(key, spec, self.model_shape(relation.model, details))

    def derived(self, key: str, field: Any, details: Any, rule: prefetch.SqlRule) -> Derived:
        named = _named(field.type)
        if not isinstance(named, GraphQLObjectType):
            return Derived(key, rule, _leaf(key, field.type), named.name)
        fields: list[tuple[str, str, Column | None]] = []
        for sub_key, sub in self.subfields(named, details).items():
            self._no_arguments(sub)
            name = sub[0].node.name.value
            if name == "__typename":
                fields.append((sub_key, name, None))
                continue
            definition = compat.definition_of(named.fields[name])
            if (
                definition is None
                or definition.base_resolver is not None
                or definition.extensions
                or definition.permission_classes
            ):
                raise Unsupported(name)
            leaf = _leaf(sub_key, named.fields[name].type)
            fields.append((sub_key, definition.python_name, leaf))
        return Derived(key, rule, None, named.name, tuple(fields))

    @staticmethod
    def column(key: str, mapper: Any, attr: str, graphql_type: Any) -> Column:
        prop = mapper.column_attrs.get(attr)
        if prop is None or prop.deferred or len(prop.columns) != 1:
            raise Unsupported(attr)
        column_type = prop.columns[0].type
        base = _base_type(column_type)
        leaf = _named(graphql_type)
        if isinstance(leaf, GraphQLEnumType):
            definition = compat.definition_of(leaf)
            enum_class: Any = getattr(definition, "wrapped_cls", None)
            values = [m.value for m in enum_class] if enum_class is not None else []
            if (
                enum_class is None
                or not isinstance(base, SQLEnum)
                or base.enum_class is not enum_class
            ):
                raise Unsupported(attr)
            if list(base.enums) != values:
                raise Unsupported(attr)
            return Column(key, attr, Coerce.ENUM, enum_class)
        if not isinstance(leaf, GraphQLScalarType):
            raise Unsupported(attr)
        name = leaf.name
        if name == "String" and isinstance(base, String | Text) and not isinstance(base, SQLEnum):
            return Column(key, attr, Coerce.PLAIN)
        if name == "Int" and isinstance(base, Integer) and not isinstance(base, BigInteger):
            return Column(key, attr, Coerce.PLAIN)
        if name == "Boolean" and isinstance(base, Boolean):
            return Column(key, attr, Coerce.BOOLEAN)
        if name == "DateTime" and isinstance(column_type, UTCDateTime):
            return Column(key, attr, Coerce.DATETIME)
        if name == "BigInt" and isinstance(base, Integer):
            return Column(key, attr, Coerce.BIGINT)
        if (
            name == "Float"
            and type(base) in (Float, Double, DOUBLE_PRECISION)
            and not base.asdecimal
            and base.precision is None
        ):
            return Column(key, attr, Coerce.FLOAT)
        if name == "JSON" and type(base).__name__ in ("JSON", "JSONB"):
            return Column(key, attr, Coerce.JSON)
        raise Unsupported(attr)


def _leaf(key: str, graphql_type: Any) -> Column:
    """How an SQL value of a GraphQL scalar or enum type becomes its output (no
    column behind it: ``attr`` is empty)."""
    required = isinstance(graphql_type, GraphQLNonNull)
    leaf = _named(graphql_type)
    if isinstance(leaf, GraphQLEnumType):
        enum_class: Any = getattr(compat.definition_of(leaf), "wrapped_cls", None)
        if enum_class is None:
            raise Unsupported(leaf.name)
        return Column(key, "", Coerce.ENUM, enum_class, required)
    coerce = {
        "JSON": Coerce.JSON,
        "String": Coerce.PLAIN,
        "Int": Coerce.PLAIN,
        "Boolean": Coerce.BOOLEAN,
        "BigInt": Coerce.BIGINT,
        "Float": Coerce.FLOAT,
    }.get(getattr(leaf, "name", ""))
    if coerce is None:
        raise Unsupported(getattr(leaf, "name", "a type"))
    return Column(key, "", coerce, None, required)


def _declared(definition: Any) -> Any:
    """What a field's resolver was declared with by the kernel's helpers, or None."""
    resolver = getattr(definition, "base_resolver", None)
    return prefetch.declaration(getattr(resolver, "wrapped_func", None))


def _named(graphql_type: Any) -> Any:
    while hasattr(graphql_type, "of_type"):
        graphql_type = graphql_type.of_type
    return graphql_type
