"""A planned root field and the request's variables -> ONE SQLAlchemy Core
statement returning one row with one text column: the field's JSON value as
the executor would serialize it.

Every Python-side check the executor makes (a malformed id or cursor, page
arguments out of range, a filter it refuses) runs here the same way (the
kernel's own functions); when one fails, ``Unsupported`` sends the field to the
executor, whose error the client then gets.

Nodes are built from a row source (a FROM clause and the model it holds rows
of): the page of a connection, or an aliased table for ``node(id:)`` and for
each to-one relationship (a correlated scalar subquery). Each node type's read
rule narrows what it shows, in SQL, with the request's principal: a node the
caller may not read is null, as on the executor's path.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.visitors import replacement_traverse

from expgraph.db.direct import reusable
from expgraph.db.jsonsql import JsonSQL, quoted
from expgraph.graphql import connections
from expgraph.graphql.compiled.plan import (
    ChildConnection,
    ChildList,
    Coerce,
    Column,
    ConnectionRoot,
    Derived,
    GlobalId,
    ModelShape,
    NodeRoot,
    ObjectShape,
    Related,
    Root,
    Typename,
    Unsupported,
    recall,
    remember,
)
from expgraph.graphql.filters import filter_key, narrowing
from expgraph.graphql.loaders import Relation
from expgraph.graphql.pagination import (
    PageArgs,
    SortKey,
    cursor_parameters,
    order_by,
    page_statement,
    sort_signature,
    with_tiebreak,
)
from expgraph.graphql.relay import decode_id
from expgraph.graphql.visibility import visible_relation, visible_statement

ROW_NUMBER = "expgraph_row_number"
OWN_PREFIX = "expgraph_"  # the compiler's own parameters are named so
PK_PARAMETER = "expgraph_pk"
CURSOR_PREFIX = "expgraph_cursor_"
_NODE_STATEMENTS: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_CONNECTION_STATEMENTS: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
# (a connection's shape, its arguments' values) -> (statement, its values)
_REMEMBERED: OrderedDict[tuple[Any, ...], tuple[Any, dict[str, Any]]] = OrderedDict()
_STATEMENTS_SIZE = 1024

built = 0
"""Statements built so far in this process (each is built once per shape and then
cached: tests and diagnostics compare it before and after a request)."""


@dataclass
class Source:
    """Rows of ``model`` read from ``selectable`` (a table alias or a subquery)."""

    selectable: Any
    model: type

    found: dict[tuple[Any, str], Any] = dataclasses.field(default_factory=dict)

    def column(self, attr: str, model: type | None = None) -> Any:
        """The column of ``attr`` (an attribute of ``model``: the source's, or
        one of its subclasses' on the same table)."""
        key = (model, attr)
        if key in self.found:
            return self.found[key]
        prop: Any = sa_inspect(model or self.model).column_attrs.get(attr)
        if prop is None:
            raise Unsupported(attr)
        found = self.selectable.corresponding_column(prop.columns[0])
        if found is None:
            raise Unsupported(attr)
        self.found[key] = found
        return found

    def columns(self, model: type | None = None) -> Any:
        """Its columns by record attribute (of ``model``: the source's, or one of its
        subclasses'), for read rules (``rule.where(principal, model)`` reads the
        columns it needs off ``model``) and SQL rules."""
        mapper: Any = sa_inspect(model or self.model)
        found = {}
        for prop in mapper.column_attrs:
            column = self.selectable.corresponding_column(prop.columns[0])
            if column is not None:
                found[prop.key] = column
        return SimpleNamespace(**found)


class Compiler:
    """Compiles root fields for one request (its dialect, principal, settings)."""

    def __init__(
        self,
        dialect: str,
        principal: Any,
        settings: Any,
        arguments: Callable[[Any, Any], dict[str, Any]] | None = None,
    ) -> None:
        self.json = JsonSQL(dialect)
        self.principal = principal
        self.settings = settings
        # (GraphQL field, its field nodes) -> its coerced arguments (Python
        # names), for connections under a node: Unsupported when refused.
        self.arguments = arguments
        self.children: dict[ChildConnection, _Child] = {}

    def statement(
        self, root: Root, arguments: dict[str, Any], context: Any
    ) -> tuple[Any, dict[str, Any]]:
        """The statement of ``root`` with its coerced ``arguments`` (Python
        names), and its parameters."""
        for permission in root.permissions:
            if not self.principal.authenticated or not self.principal.has(permission):
                raise Unsupported("the executor refuses it")
        if isinstance(root, NodeRoot):
            return self.node(root, arguments)
        return self.connection(root, arguments, context)

    # --- connections under nodes: their arguments, checked up front -----------------

    def prepare(self, shape: ModelShape, depth: int = 0) -> tuple[Any, ...]:
        """Check and resolve the arguments of every connection under ``shape``
        (as the executor would; Unsupported when it refuses them) and return
        what the statement depends on of them, for its cache key. ``depth``:
        how many connections or lists ``shape`` is nested in."""
        signature: list[Any] = []
        for _identity, variant in shape.variants:
            for field in variant.fields:
                if isinstance(field, ChildConnection | ChildList):
                    limit = self.json.MAX_NESTED
                    if limit is not None and depth + 1 > limit:
                        raise Unsupported("nested too deep for the database's parser")
                if isinstance(field, Related):
                    signature.append(self.prepare(field.target, depth))
                elif isinstance(field, ChildList):
                    signature.append(self.prepare(field.node, depth + 1))
                elif isinstance(field, ChildConnection):
                    signature.append((field, *self.child(field)))
                    signature.append(self.prepare(field.node, depth + 1))
                elif isinstance(field, Derived):
                    settings = field.rule.settings
                    signature.append(tuple((n, getattr(self.settings, n)) for n in settings))
        return tuple(signature)

    def child(self, field: ChildConnection) -> tuple[Any, ...]:
        if self.arguments is None:
            raise Unsupported("no arguments")
        arguments = self.arguments(field.field, field.details)
        declared = field.declared
        relation = declared.relation
        assert relation is not None
        filter_value = arguments.get("filter")
        try:
            keys = with_tiebreak(declared.sort_keys(arguments.get("order_by")))
            if filter_value is not None:
                relation = relation.narrowed(narrowing(filter_value, declared.filter_rules()))
            args = _page_args(self.settings, keys, arguments)
        except Exception as exc:  # the executor refuses it, with its own error
            raise Unsupported("refused") from exc
        if any(k.expression is not None for k in keys):
            raise Unsupported("a computed sort key")
        relation = visible_relation(relation, self.principal)
        self.children[field] = _Child(relation, keys, args)
        return (relation, tuple((k.attr, k.descending) for k in keys), args)

    # --- node(id:) ---------------------------------------------------------------------

    def node(self, root: NodeRoot, arguments: dict[str, Any]) -> Any:
        global_id = arguments.get("id")
        if not isinstance(global_id, str):
            raise Unsupported("id")
        try:
            type_name, pk = decode_id(global_id)
        except Exception as exc:
            raise Unsupported("malformed id") from exc
        shape = root.shapes.get(type_name)
        if shape is None:
            raise Unsupported("unknown type")
        # Built once per node type, dialect and caller (what read rules depend
        # on); the key is a parameter.
        principal = self.principal
        children = self.prepare(shape)
        key = (root, type_name, self.json.dialect, caller_key(principal), children)
        statement = _NODE_STATEMENTS.get(key)
        if statement is None:
            pk_param = bindparam(PK_PARAMETER, type_=BigInteger())
            statement = reusable(
                self.one(shape, lambda source: source.column("id") == pk_param, text=True)
            )
            global built
            built += 1
        remember(_NODE_STATEMENTS, key, statement, _STATEMENTS_SIZE)
        return statement, {PK_PARAMETER: pk}

    # --- nodes -------------------------------------------------------------------------

    def related(self, shape: ModelShape, match: Any) -> Any:
        """A scalar subquery: the node of the one row of ``shape.model`` that
        ``match(source)`` selects, null when none (or not readable)."""
        return self.json.embed(self.one(shape, match).scalar_subquery())

    def one(self, shape: ModelShape, match: Any, text: bool = False) -> Any:
        """The statement selecting the node of the one row of ``shape.model``
        that ``match(source)`` selects (no row when none, null when not
        readable); ``text``: as its JSON text (a statement's result)."""
        table: Any = sa_inspect(shape.model).local_table.alias()
        source = Source(table, shape.model)
        conditions = [match(source)]
        identities = _identities(shape.model)
        if identities is not None and shape.discriminator is not None:
            column = source.column(shape.discriminator)
            conditions.append(column.in_(identities))
        value = self.nodes(shape, source)
        if text:
            value = self.json.text_of(value)
        return select(value).select_from(table).where(and_(*conditions))

    def first_child(
        self, shape: ModelShape, relation: Relation, parent_key: Any, parent: Source
    ) -> Any:
        """A scalar subquery: the node of the child of lowest id of ``relation``
        whose parent is ``parent_key`` (``FirstChild``), null when none (or not
        readable: the child is picked first, then shown or not, as the loader does)."""
        entity = relation.model
        stmt = _children(relation, parent_key).correlate(parent.selectable)
        rows = stmt.order_by(entity.id.asc()).limit(_int(1)).subquery()
        value = select(self.nodes(shape, Source(rows, entity))).select_from(rows)
        return self.json.embed(value.scalar_subquery())

    def nodes(self, shape: ModelShape, source: Source) -> Any:
        """The node of each row of ``source`` (by its discriminator), or null
        where its type's read rule hides it."""
        whens = []
        for identity, variant in shape.variants:
            value = self.visible(variant, source, self.object(variant, source))
            if shape.discriminator is None:
                return value
            discriminator = cast(source.column(shape.discriminator), String)
            whens.append((discriminator == quoted(str(_stored(identity))), value))
        if not whens:
            return literal_column("NULL")
        return self.json.maybe(case(*whens, else_=literal_column("NULL")))

    def never_null(self, shape: ModelShape) -> bool:
        """Whether ``nodes`` gives a node for every row (one type, which the
        caller may read whole)."""
        return (
            shape.discriminator is None
            and bool(shape.variants)
            and all(variant.spec.read.sees_all(self.principal) for _, variant in shape.variants)
        )

    def visible(self, variant: ObjectShape, source: Source, value: Any) -> Any:
        rule = variant.spec.read
        if rule.sees_all(self.principal):
            return value
        condition = rule.where(self.principal, source.columns())
        return self.json.maybe(case((condition, value), else_=literal_column("NULL")))

    def object(self, shape: ObjectShape, source: Source) -> Any:
        json = self.json
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for field in shape.fields:
            if isinstance(field, Typename):
                pairs.append((field.key, quoted(shape.spec.type_name)))
            elif isinstance(field, GlobalId):
                pairs.append((field.key, json.global_id(shape.spec.type_name, source.column("id"))))
            elif isinstance(field, Column):
                column = source.column(field.attr, shape.spec.model)
                pairs.append((field.key, self.leaf(field, column)))
            elif isinstance(field, Related):
                parent = source.column(field.attr, shape.spec.model)
                if field.relation is None:
                    value = self.related(field.target, lambda s, p=parent: s.column("id") == p)
                else:
                    value = self.first_child(field.target, field.relation, parent, source)
                if field.required:  # none (or not readable): the executor's error
                    value = func.coalesce(value, json.refused_json())
                pairs.append((field.key, value))
            elif isinstance(field, Derived):
                pairs.append((field.key, self.derived(field, source, shape.spec.model)))
            elif isinstance(field, ChildConnection):  # an object, not a subquery
                pairs.append((field.key, self.child_connection(field, source)))
            elif isinstance(field, ChildList):
                pairs.append((field.key, json.embed(self.child_list(field, source), always=True)))
        try:
            return json.object(pairs)
        except ValueError as exc:
            raise Unsupported("too many fields") from exc

    def derived(self, field: Derived, source: Source, model: type) -> Any:
        """A derived field's value, by its SQL rule over the row's columns."""
        rule, row = field.rule, source.columns(model)
        if rule.once is None:
            return self.derived_value(field, rule.build(row, self.settings))
        return self.json.once(
            rule.once(row),
            source.selectable,
            lambda values: self.derived_value(field, rule.build(row, self.settings, values)),
        )

    def derived_value(self, field: Derived, built: Any) -> Any:
        """A derived field's JSON value from what its rule built."""
        if field.leaf is not None:  # read once (enums: a simple CASE over it)
            return self.leaf(field.leaf, built)
        pairs: list[tuple[str, Any]] = []
        for key, name, leaf in field.fields:
            if leaf is None:
                pairs.append((key, quoted(field.type_name)))
                continue
            if name not in built:
                raise Unsupported(name)
            pairs.append((key, self.leaf(leaf, built[name])))
        return self.json.object(pairs)

    def leaf(self, field: Column, column: Any) -> Any:
        """A scalar's or an enum's output; where it is null but GraphQL says
        non-null, the marker (the executor's error)."""
        if field.coerce is Coerce.ENUM:
            assert field.enum_class is not None
            return self.json.enum_name(column, field.enum_class, field.required)
        value = self.coerced(field, column)
        if not field.required:
            return value
        if field.coerce in (Coerce.PLAIN, Coerce.BOOLEAN):  # one type for both branches
            value = self.json.as_json(value)
        if field.coerce in (Coerce.PLAIN, Coerce.BOOLEAN, Coerce.FLOAT, Coerce.JSON):
            refused = self.json.refused_json()
        else:  # text
            refused = self.json.refused()
        return case((column.is_(None), refused), else_=value)

    def coerced(self, field: Column, column: Any) -> Any:
        json = self.json
        if field.coerce is Coerce.PLAIN:
            return column
        if field.coerce is Coerce.BOOLEAN:
            return json.boolean(column)
        if field.coerce is Coerce.DATETIME:
            return json.datetime_text(column)
        if field.coerce is Coerce.BIGINT:
            return json.text(column)
        if field.coerce is Coerce.JSON:
            return json.json_column(column)
        if field.coerce is Coerce.FLOAT:
            return json.float_number(column)
        assert field.enum_class is not None
        return json.enum_name(column, field.enum_class)

    # --- connections -------------------------------------------------------------------

    def connection(
        self, root: ConnectionRoot, arguments: dict[str, Any], context: Any
    ) -> tuple[Any, dict[str, Any]]:
        """The statement of a top-level connection and its parameters.

        Every value the rows depend on (a filter's or listing's argument, the
        caller's id in a read rule, the cursor's) is a parameter, so one statement
        serves every page, filter value and caller of a shape: it is keyed by the
        page's SQL text, and the values of arguments seen before are remembered
        with it, so a repeated request builds nothing."""
        own = {
            k: v
            for k, v in arguments.items()
            if k not in ("filter", "order_by", "first", "after", "last", "before")
        }
        filter_value = arguments.get("filter")
        declared = root.declared
        entity = root.entity
        try:
            keys = with_tiebreak(declared.sort_keys(arguments.get("order_by"), filter_value))
            args = _page_args(self.settings, keys, arguments)
            params: dict[str, Any] = {}
            if args.cursor is not None:
                placeholders, params = cursor_parameters(entity, keys, args.cursor, CURSOR_PREFIX)
                args = dataclasses.replace(args, cursor=placeholders)
        except Exception as exc:  # the executor refuses it, with its own error
            raise Unsupported("refused") from exc
        caller = caller_key(self.principal)
        children = self.prepare(root.node, 1)  # the root's page is a level
        order = tuple((k.attr, k.descending) for k in keys)
        shape = (root, children, self.json.dialect, caller, order, args.limit, args.forward)
        seen = (
            *shape,
            args.cursor is not None,
            filter_key(filter_value),
            repr(sorted(own.items())),
        )
        remembered = recall(_REMEMBERED, seen)
        if remembered is not None:
            statement, values = remembered
            return statement, {**values, **params}
        try:
            assert declared.listing is not None
            stmt = declared.listing(None, info=_Info(context), **own)
            if filter_value is not None:
                stmt = connections.stmt_filtered(stmt, filter_value, declared.filter_rules())
            stmt = visible_statement(stmt, entity, self.principal)
            stmt, values = _values_as_parameters(stmt, "s")
            page = page_statement(stmt, entity, keys, args).limit(_int(args.limit + 1))
            # A computed sort key's value rides on its row, for its cursor.
            computed = [k for k in keys if k.expression is not None]
            page = page.add_columns(*(k.expression.label(_sort_label(k)) for k in computed))
            page, more = _values_as_parameters(page, "p")
            values.update(more)
            # What the rows depend on but the values: the SQL text of the page.
            rows_sql = str(page.compile(dialect=context.db.engine.dialect))
        except Unsupported:
            raise
        except Exception as exc:  # the executor refuses it, with its own error
            raise Unsupported("refused") from exc
        key = (*shape, args.cursor is not None, rows_sql)
        statement = _CONNECTION_STATEMENTS.get(key)
        if statement is None:
            statement = reusable(
                select(self.json.text_of(self.page_json(root, stmt, page, entity, keys, args)))
            )
            global built
            built += 1
        remember(_CONNECTION_STATEMENTS, key, statement, _STATEMENTS_SIZE)
        remember(_REMEMBERED, seen, (statement, values), _STATEMENTS_SIZE)
        return statement, {**values, **params}

    def page_json(
        self,
        root: ConnectionRoot,
        stmt: Any,
        page: Any,
        entity: Any,
        keys: tuple[SortKey, ...],
        args: PageArgs,
    ) -> Any:
        """The connection's JSON value over its page statement."""
        row_number = func.row_number().over(order_by=order_by(entity, keys, args.forward))
        page_rows: Any = page.add_columns(row_number.label(ROW_NUMBER)).cte("expgraph_page")
        return self.page_value(
            root.selection,
            root.node,
            root.connection_type,
            root.edge_type,
            stmt,
            page_rows,
            entity,
            keys,
            args,
        )

    def child_connection(self, field: ChildConnection, parent: Source) -> Any:
        """A page of a node's children (a subquery correlated to the node's row).

        Without ``pageInfo`` and paging forward (a page of edges, the common
        case), the page is the children in their order up to the limit, with no
        row numbers and no row past the page: less for the database to do for
        each parent row."""
        child = self.children[field]
        entity = child.relation.model
        stmt = _children(child.relation, parent.column("id")).correlate(parent.selectable)
        page = page_statement(stmt, entity, child.keys, child.args)
        numbered = not child.args.forward or any(
            name == "pageInfo" for _, name, _ in field.selection
        )
        if numbered:
            row_number = func.row_number().over(
                order_by=order_by(entity, child.keys, child.args.forward)
            )
            page = page.limit(_int(child.args.limit + 1)).add_columns(row_number.label(ROW_NUMBER))
        else:
            page = page.limit(_int(child.args.limit))
        return self.page_value(
            field.selection,
            field.node,
            field.connection_type,
            field.edge_type,
            stmt,
            page.subquery(),
            entity,
            child.keys,
            child.args,
            numbered=numbered,
        )

    def child_list(self, field: ChildList, parent: Source) -> Any:
        """Every child of a node, in the list's order. (A list whose items could
        be null, hidden by a read rule or of a kind the shape does not know, is
        left to the executor, which leaves them out: no such list exists.)"""
        if not self.never_null(field.node):
            raise Unsupported("a list of nodes a read rule may hide")
        spec = field.lists
        entity = spec.relation.model
        stmt = _children(spec.relation, parent.column("id")).correlate(parent.selectable)
        ordered = stmt.order_by(getattr(entity, spec.order_attr).asc(), entity.id.asc())
        children = ordered.subquery()  # ordered for SQLite's aggregate too
        source = Source(children, entity)
        order = (source.column(spec.order_attr).asc(), source.column("id").asc())
        value = self.json.array(self.nodes(field.node, source), *order)
        return select(value).select_from(children).scalar_subquery()

    def page_value(
        self,
        selection: tuple[tuple[str, str, Any], ...],
        node: ModelShape,
        connection_type: str,
        edge_type: str,
        stmt: Any,
        page: Any,
        entity: Any,
        keys: tuple[SortKey, ...],
        args: PageArgs,
        numbered: bool = True,
    ) -> Any:
        """A connection's JSON value over ``page`` (its rows, numbered in
        ``ROW_NUMBER``, one past the page; or, not ``numbered``, exactly the
        page's rows, forward, for a selection without ``pageInfo``) and ``stmt``
        (every row, for its count)."""
        json = self.json
        source = Source(page, entity)
        if not numbered:
            return json.object(
                [
                    (key, self.edges(inner, node, edge_type, page, entity, keys, None))
                    if name == "edges"
                    else (key, self.page_field(name, connection_type, stmt))
                    for key, name, inner in selection
                ]
            )
        number = page.c[ROW_NUMBER]
        limit = _int(args.limit)
        shown_order = number.asc() if args.forward else number.desc()
        cursor = self.cursor(source, keys)

        def first_cursor(ascending: bool) -> Any:
            return (
                select(cursor)
                .select_from(page)
                .where(number <= limit)
                .order_by(number.asc() if ascending else number.desc())
                .limit(_int(1))
                .scalar_subquery()
            )

        more = exists(select(literal_column("1")).select_from(page).where(number > limit))
        given = args.cursor is not None
        pairs: list[tuple[str, Any]] = []
        for key, name, inner in selection:
            if name in ("__typename", "totalCount"):
                pairs.append((key, self.page_field(name, connection_type, stmt)))
            elif name == "pageInfo":
                info: list[tuple[str, Any]] = []
                for info_key, info_name in inner:
                    if info_name == "__typename":
                        info.append((info_key, quoted("PageInfo")))
                    elif info_name == "hasNextPage":
                        info.append((info_key, self.flag(more if args.forward else given)))
                    elif info_name == "hasPreviousPage":
                        info.append((info_key, self.flag(given if args.forward else more)))
                    elif info_name == "startCursor":
                        info.append((info_key, first_cursor(args.forward)))
                    else:
                        info.append((info_key, first_cursor(not args.forward)))
                pairs.append((key, json.object(info)))
            else:
                # The shown rows, in the order shown.
                rows = (
                    select(page).where(number <= limit).order_by(shown_order).limit(limit)
                ).subquery()
                n = rows.c[ROW_NUMBER]
                ordered = n.asc() if args.forward else n.desc()
                pairs.append((key, self.edges(inner, node, edge_type, rows, entity, keys, ordered)))
        return json.object(pairs)

    def page_field(self, name: str, connection_type: str, stmt: Any) -> Any:
        """A connection's ``__typename`` or ``totalCount`` (of ``stmt``'s rows)."""
        if name == "__typename":
            return quoted(connection_type)
        count = select(func.count()).select_from(stmt.order_by(None).subquery())
        return count.scalar_subquery()

    def edges(
        self,
        inner: Any,
        node: ModelShape,
        edge_type: str,
        rows: Any,
        entity: Any,
        keys: tuple[SortKey, ...],
        ordered: Any,
    ) -> Any:
        """The JSON array of the edges of ``rows``, in ``ordered`` (None: the
        sort keys' order). Each edge is built inside the aggregate (not in a
        subquery under it: SQLite's parser nests each subquery level deeper)."""
        shown = Source(rows, entity)
        edge: list[tuple[str, Any]] = []
        for edge_key, edge_name in inner:
            if edge_name == "__typename":
                edge.append((edge_key, quoted(edge_type)))
            elif edge_name == "cursor":
                edge.append((edge_key, self.cursor(shown, keys)))
            else:
                edge.append((edge_key, self.nodes(node, shown)))
        if ordered is None:
            order = [
                shown.column(k.attr).desc() if k.descending else shown.column(k.attr).asc()
                for k in keys
            ]
        else:
            order = [ordered]
        array = self.json.array(self.json.object(edge), *order)
        edges = select(array).select_from(rows).scalar_subquery()
        return self.json.embed(edges, always=True)

    def flag(self, value: Any) -> Any:
        if isinstance(value, bool):
            return self.json.constant(value)
        return self.json.boolean(value)

    def cursor(self, source: Source, keys: tuple[SortKey, ...]) -> Any:
        """``pagination.encode_cursor`` of each row, in SQL."""
        json = self.json
        parts: list[Any] = [quoted("[" + orjson.dumps(sort_signature(keys)).decode() + ",[")]
        for i, key in enumerate(keys):
            if key.expression is None:
                column = source.column(key.attr)
            else:
                column = source.selectable.c[_sort_label(key)]
            column_type = column.type
            base = getattr(column_type, "impl_instance", column_type)
            if i:
                parts.append(quoted(","))
            if isinstance(base, DateTime):
                parts += [quoted('{"t":"'), json.datetime_text(column, "+00:00"), quoted('"}')]
            elif isinstance(base, Enum):
                parts.append(json.json_string(cast(column, String)))
            elif isinstance(base, Boolean):
                parts.append(case((column, quoted("true")), else_=quoted("false")))
            elif isinstance(base, Integer):
                parts.append(cast(column, Text))
            elif isinstance(base, String | Text):
                parts.append(json.json_string(column))
            else:
                raise Unsupported("a sort key of another type")
        parts.append(quoted("]]"))
        return json.b64url(json.concat(parts))


def _values_as_parameters(stmt: Any, prefix: str) -> tuple[Any, dict[str, Any]]:
    """``stmt`` with each value it holds (a filter's or listing's argument, the
    caller's id in a read rule) as a named parameter, and their values by name:
    statements that differ only in values then have one SQL text. A value written
    into the SQL at execution (``literal_execute``) stays: that text shows it."""
    values: dict[str, Any] = {}

    def parameter(element: Any, **_: Any) -> Any:
        if not isinstance(element, BindParameter) or element.key.startswith(OWN_PREFIX):
            return None
        if element.literal_execute or element.callable is not None:
            return None
        name = f"{OWN_PREFIX}{prefix}{len(values)}"
        values[name] = element.value
        return bindparam(name, type_=element.type, expanding=element.expanding)

    options: dict[str, Any] = {}
    return replacement_traverse(stmt, options, parameter), values


def _int(value: int) -> Any:
    """An integer written into the statement's text, not bound: a page size is
    part of the statement (its cache key), and PostgreSQL then plans the statement
    once per connection (asyncpg prepares it; the generic plan of a LIMIT given as
    a parameter assumes a tenth of the table, so PostgreSQL kept planning again at
    every execution, which cost as much as running it)."""
    return literal_column(str(int(value)), Integer())


def _sort_label(key: SortKey) -> str:
    """The column a page carries a computed sort key's value in."""
    return f"expgraph_sort_{key.attr}"


@dataclass(frozen=True)
class _Child:
    """A connection under a node, as its arguments resolved for this request."""

    relation: Relation
    keys: tuple[SortKey, ...]
    args: PageArgs


def _children(relation: Relation, parent_id: Any) -> Any:
    """``select(model)`` of ``relation``'s children of the parent whose id is
    ``parent_id`` (as ``Relation.statement`` for one parent)."""
    model = relation.model
    if relation.through is not None:
        link = relation.through.association
        parent = getattr(link, relation.through.parent_attr)
        stmt = select(model).join(link, getattr(link, relation.through.target_attr) == model.id)
    else:
        assert relation.parent_attr is not None
        parent = getattr(model, relation.parent_attr)
        stmt = select(model)
    stmt = stmt.where(parent == parent_id)
    for narrowed in relation.narrowings:
        stmt = stmt.where(narrowed.build())
    return stmt


class _Info:
    """What a connection's listing function may read of its ``info``."""

    def __init__(self, context: Any) -> None:
        self.context = context


def caller_key(principal: Any) -> tuple[Any, ...]:
    """What of the caller a statement may depend on (read rules, listings)."""
    return (
        principal.user_id,
        principal.permissions,
        principal.authenticated,
        principal.api_key_id,
        principal.session_id,
    )


def _identities(model: type) -> list[Any] | None:
    """The discriminator values of ``model``'s rows, when it is one class of a
    polymorphic table (None: every row of the table)."""
    mapper: Any = sa_inspect(model)
    if mapper.polymorphic_on is None or mapper.base_mapper is mapper:
        return None
    return [
        m.polymorphic_identity
        for m in mapper.self_and_descendants
        if m.polymorphic_identity is not None
    ]


def _stored(identity: Any) -> Any:
    """What the database holds for a discriminator value (an enum's value)."""
    return getattr(identity, "value", identity)


__all__ = ["Compiler", "true"]


def _page_args(settings: Any, keys: Any, arguments: Mapping[str, Any]) -> PageArgs:
    """The page a connection's arguments ask for, checked as the executor checks them."""
    return PageArgs.within(
        settings,
        keys,
        first=arguments.get("first"),
        after=arguments.get("after"),
        last=arguments.get("last"),
        before=arguments.get("before"),
    )
