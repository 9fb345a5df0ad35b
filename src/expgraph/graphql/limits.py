"""Limits on what one GraphQL request may ask for, all linear in the document.

Every check here walks the document once: a fragment is measured once, however
many times it is spread, and its measure is multiplied out where it is used, so
a small document that fans out through fragments costs its size to refuse, not
the size of its expansion. In request order:

1. ``DocumentLimits.on_parse``: a document longer than ``max_query_chars``
   characters (comments count) is refused before it is parsed; then the
   operation to run is chosen as the GraphQL spec says (several operations need
   an ``operationName``; the name must name one of them), and a subscription
   sent over HTTP is refused (subscriptions are served over WebSocket).
2. ``permissions.SignInRequired.on_validate``: an anonymous caller (authentication
   on, no credential) may only send documents that select the open root fields
   (``login``, ``__typename``); anything else is refused here, before validation.
3. ``DocumentLimits.on_validate``: fragment spreads, depth, aliases and fields
   (after fragment expansion), each against its setting.
4. ``CachedValidation``: the GraphQL spec's validation, cached per document.
5. ``QueryCost.on_validate``: the cost of the operation, with its variables.

Each refusal is a request error with ``extensions.code`` (BAD_REQUEST, or
UNAUTHENTICATED in step 2), set as the operation's pre-execution errors so it
reaches HTTP and WebSocket clients alike, and nothing is executed.

The cost of an operation: each field with a page (``first``/``last``) costs its
page size (the argument, or the default page size), each field given a list
(``nodes(ids:)``) costs the list's length, whether the list is written in the
document or passed in a variable; other fields cost nothing (the field limit
bounds them). The cost is the sum over the operation, fragments expanded and
aliases counted: ``experiments(first: 20) { ... tags { ... } }`` costs 20 + 50,
and 30 aliases of ``nodes(ids: $ids)`` with 500 ids each cost 15,000.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NameNode,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    ValueNode,
    VariableNode,
    get_named_type,
    parse,
)
from starlette.requests import Request
from strawberry.extensions import SchemaExtension, ValidationCache

from expgraph import compat
from expgraph.config import Settings


def refusal(message: str, code: str = "BAD_REQUEST") -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


@dataclass(frozen=True)
class Limits:
    """The document limits, from the settings."""

    max_chars: int
    max_spreads: int
    max_depth: int
    max_aliases: int
    max_fields: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            max_chars=settings.max_query_chars,
            max_spreads=settings.max_fragment_spreads,
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_fields=settings.max_fields,
        )


# --- the document's shape: spreads, depth, aliases, fields -------------------------


class _Over(Exception):
    """A limit passed (the walk stops at once)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def count_spreads(document: DocumentNode, limit: int) -> int:
    """The fragment spreads written in the document (not expanded), counting
    stops past ``limit``; without recursion, whatever the nesting."""
    count = 0
    stack: list[SelectionSetNode] = [
        definition.selection_set
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                count += 1
                if count > limit:
                    return count
            elif (
                isinstance(selection, FieldNode | InlineFragmentNode)
                and selection.selection_set is not None
            ):
                stack.append(selection.selection_set)
    return count


@dataclass
class _Measure:
    depth: int = 0  # nested fields with a selection, introspection fields aside
    fields: int = 0  # every field, once per place it ends up after fragment expansion
    aliases: int = 0


class _Shape:
    """Measures selection sets, each named fragment once (memoised); a fragment
    reached again while it is being measured (a cycle, which validation reports)
    counts nothing, so the walk cannot loop."""

    def __init__(self, document: DocumentNode, limits: Limits) -> None:
        self.limits = limits
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.measured: dict[str, _Measure] = {}
        self.active: set[str] = set()
        self.fields = 0  # over the whole document, operations summed
        self.aliases = 0

    def operation(self, definition: OperationDefinitionNode) -> None:
        measure = self.selection_set(definition.selection_set, 0)
        self.fields += measure.fields
        self.aliases += measure.aliases
        self.check(self.fields, self.aliases)

    def check(self, fields: int, aliases: int) -> None:
        if fields > self.limits.max_fields:
            raise _Over(
                f"the document selects more than {self.limits.max_fields} fields once its "
                "fragments are expanded"
            )
        if aliases > self.limits.max_aliases:
            raise _Over(
                f"the document uses more than {self.limits.max_aliases} aliases once its "
                "fragments are expanded"
            )

    def too_deep(self) -> _Over:
        return _Over(f"the document nests deeper than {self.limits.max_depth} levels")

    def selection_set(self, selection_set: SelectionSetNode, level: int | None) -> _Measure:
        """``level``: the fields nested above, from the definition at the bottom
        of the walk (past the limit, that definition is too deep: the walk stops);
        None inside an introspection field, whose depth does not count."""
        total = _Measure()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total.fields += 1
                total.aliases += selection.alias is not None
                if selection.selection_set is not None:
                    introspection = selection.name.value.startswith("__")
                    below = None if level is None or introspection else level + 1
                    if below is not None and below > self.limits.max_depth:
                        raise self.too_deep()
                    inner = self.selection_set(selection.selection_set, below)
                    if not introspection:
                        total.depth = max(total.depth, 1 + inner.depth)
                    total.fields += inner.fields
                    total.aliases += inner.aliases
            else:
                if isinstance(selection, InlineFragmentNode):
                    inner = self.selection_set(selection.selection_set, level)
                else:
                    assert isinstance(selection, FragmentSpreadNode)
                    inner = self.fragment(selection.name.value, level)
                    if level is not None and level + inner.depth > self.limits.max_depth:
                        raise self.too_deep()
                total.depth = max(total.depth, inner.depth)
                total.fields += inner.fields
                total.aliases += inner.aliases
            self.check(total.fields, total.aliases)
        return total

    def fragment(self, name: str, level: int | None) -> _Measure:
        known = self.measured.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self.active:
            return _Measure()  # unknown or cyclic: validation reports it
        self.active.add(name)
        try:
            measure = self.selection_set(definition.selection_set, level)
        finally:
            self.active.discard(name)
        self.measured[name] = measure
        return measure


def shape_refusal(document: DocumentNode, limits: Limits) -> str | None:
    """Why the document's shape is refused, or None."""
    spreads = count_spreads(document, limits.max_spreads)
    if spreads > limits.max_spreads:
        return f"the document has more than {limits.max_spreads} fragment spreads"
    shape = _Shape(document, limits)
    try:
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                shape.operation(definition)
    except _Over as over:
        return over.message
    except RecursionError:
        return "the document nests too deeply"
    return None


@dataclass
class Parsed:
    """A parsed document, with its shape's verdict once asked for (both cached)."""

    document: DocumentNode
    verdicts: dict[Limits, str | None]

    def refusal(self, limits: Limits) -> str | None:
        if limits not in self.verdicts:
            self.verdicts[limits] = shape_refusal(self.document, limits)
        return self.verdicts[limits]


@lru_cache(maxsize=1024)
def parse_cached(query: str, max_tokens: int | None) -> Parsed:
    """Strawberry's ParserCache, with the document's shape measured once too."""
    return Parsed(parse(query, max_tokens=max_tokens), {})


def _placeholder(operation_name: str | None) -> DocumentNode:
    """A document standing in for one that is refused before it runs: the
    operation strawberry looks for (by name) exists, so it answers the refusal
    as an error like any other instead of failing to find one."""
    return DocumentNode(
        definitions=(
            OperationDefinitionNode(
                operation=OperationType.QUERY,
                name=NameNode(value=operation_name) if operation_name else None,
                variable_definitions=(),
                directives=(),
                selection_set=SelectionSetNode(
                    selections=(
                        FieldNode(
                            name=NameNode(value="__typename"),
                            arguments=(),
                            directives=(),
                        ),
                    )
                ),
            ),
        )
    )


def requested_operation_name(execution_context: Any) -> str | None:
    """The ``operationName`` the request gave (None when it gave none).

    Strawberry's ``ExecutionContext.operation_name`` falls back to the first
    operation's name, which would run the first of several operations; the name
    as given is only kept in a private attribute (see ``compat``)."""
    return compat.provided_operation_name(execution_context)


def chosen_operation(
    document: DocumentNode, name: str | None
) -> tuple[OperationDefinitionNode | None, str | None]:
    """The operation to run, as the GraphQL spec chooses it, or why there is none."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is not None:
        for operation in operations:
            if operation.name is not None and operation.name.value == name:
                return operation, None
        return None, f"the document has no operation named {name!r}"
    if len(operations) > 1:
        return None, "the document has several operations: say which to run with `operationName`"
    return (operations[0] if operations else None), None


class DocumentLimits(SchemaExtension):
    """Parses the document (cached), refusing it first when it is too long, and
    chooses its operation; then, before validation, refuses a document whose
    shape passes a limit. See the module's docstring."""

    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self.limits = limits
        self.parsed: Parsed | None = None

    def refuse(self, problem: str | GraphQLError) -> None:
        context = self.execution_context
        context.graphql_document = _placeholder(requested_operation_name(context))
        context.pre_execution_errors = [
            problem if isinstance(problem, GraphQLError) else refusal(problem)
        ]

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        if query is not None and context.graphql_document is None:
            if len(query) > self.limits.max_chars:
                self.refuse(
                    f"the document is longer than {self.limits.max_chars} characters "
                    "(comments and whitespace count)"
                )
                yield
                return
            try:
                self.parsed = parse_cached(query, context.parse_options.get("max_tokens"))
            except GraphQLError as error:  # a syntax error, or too many tokens
                self.refuse(error)
                yield
                return
            context.graphql_document = self.parsed.document
        if context.graphql_document is not None and context.pre_execution_errors is None:
            self.choose(context.graphql_document)
        yield

    def choose(self, document: DocumentNode) -> None:
        context = self.execution_context
        operation, problem = chosen_operation(document, requested_operation_name(context))
        if problem is not None:
            self.refuse(problem)
        elif (
            operation is not None
            and operation.operation is OperationType.SUBSCRIPTION
            and isinstance(getattr(context.context, "request", None), Request)
        ):
            self.refuse(
                "subscriptions are served over WebSocket (the graphql-transport-ws "
                "protocol on this same path), not over HTTP"
            )

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is None and context.graphql_document is not None:
            parsed = self.parsed or Parsed(context.graphql_document, {})
            problem = parsed.refusal(self.limits)
            if problem is not None:
                context.pre_execution_errors = [refusal(problem)]
        yield


class CachedValidation(ValidationCache):
    """Strawberry's ValidationCache, skipped for a request already refused (it
    would validate the document anyway and overwrite the refusal)."""

    def on_validate(self) -> Iterator[None]:
        if self.execution_context.pre_execution_errors is not None:
            yield
            return
        yield from super().on_validate()


# --- the cost of the operation, with its variables -----------------------------


def _is_list(type_: Any) -> bool:
    return isinstance(type_.of_type if isinstance(type_, GraphQLNonNull) else type_, GraphQLList)


class _Cost:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
        page_default: int,
        page_max: int,
    ) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.variables = dict(variables)
        for definition in operation.variable_definitions or ():
            name = definition.variable.name.value
            if name not in self.variables and definition.default_value is not None:
                self.variables[name] = definition.default_value  # a literal node
        self.page_default = page_default
        self.page_max = page_max
        self.measured: dict[str, int] = {}
        self.active: set[str] = set()

    def value(self, node: ValueNode) -> Any:
        """A value as given: a literal node, or the variable's raw value."""
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        return node

    def size(self, value: Any) -> int:
        """The length of a list value (a raw list or a literal); 1 for a single
        value (coerced into a list of one), 0 for null."""
        if value is None or isinstance(value, NullValueNode):
            return 0
        if isinstance(value, list | tuple):
            return len(value)
        if isinstance(value, ListValueNode):
            return len(value.values)
        return 1

    def page(self, value: Any) -> int | None:
        if isinstance(value, IntValueNode):
            value = int(value.value)
        if isinstance(value, bool) or not isinstance(value, int):
            return None
        return max(0, min(value, self.page_max))

    def width(self, field: Any, node: FieldNode) -> int | None:
        """What the field costs: its page size or the length of the lists it is
        given (None: neither)."""
        given = {a.name.value: self.value(a.value) for a in node.arguments or ()}
        if "first" in field.args or "last" in field.args:
            pages = [
                p for p in map(self.page, (given.get("first"), given.get("last"))) if p is not None
            ]
            if pages:
                return max(pages)
            default = field.args["first"].default_value if "first" in field.args else Undefined
            return self.page(default) if self.page(default) is not None else self.page_default
        lists = [name for name, argument in field.args.items() if _is_list(argument.type)]
        if not lists:
            return None
        return sum(self.size(given.get(name)) for name in lists)

    def selection_set(self, selection_set: SelectionSetNode, parent: Any) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                fields = getattr(parent, "fields", None)
                if name.startswith("__") or not fields or name not in fields:
                    continue
                field = fields[name]
                width = self.width(field, selection)
                inner = (
                    self.selection_set(selection.selection_set, get_named_type(field.type))
                    if selection.selection_set is not None
                    else 0
                )
                total += (width or 0) + inner
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                type_ = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_set(selection.selection_set, type_)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> int:
        if name in self.measured:
            return self.measured[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.active:
            return 0
        self.active.add(name)
        try:
            cost = self.selection_set(
                definition.selection_set, self.schema.get_type(definition.type_condition.name.value)
            )
        finally:
            self.active.discard(name)
        self.measured[name] = cost
        return cost


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    *,
    page_default: int,
    page_max: int,
) -> int:
    """The operation's cost (see the module's docstring)."""
    root: GraphQLObjectType | None = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    walk = _Cost(schema, document, operation, variables or {}, page_default, page_max)
    return walk.selection_set(operation.selection_set, root)


class QueryCost(SchemaExtension):
    """Refuses, after validation (when the variables are known), an operation
    costing more than ``max_query_cost``."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if not context.pre_execution_errors and document is not None:
            operation, _ = chosen_operation(document, requested_operation_name(context))
            if operation is not None:
                cost = operation_cost(
                    compat.graphql_schema(context.schema),
                    document,
                    operation,
                    context.variables if isinstance(context.variables, Mapping) else None,
                    page_default=self.settings.page_size_default,
                    page_max=self.settings.page_size_max,
                )
                limit = self.settings.max_query_cost
                if cost > limit:
                    context.pre_execution_errors = [
                        refusal(
                            f"the query costs {cost}, more than the limit of {limit}: each "
                            "page costs its size (`first`/`last`, or the default page size) "
                            "and each id given to `nodes` costs one; ask for smaller pages "
                            "or fewer ids per request",
                            "BAD_REQUEST",
                        )
                    ]
        yield
