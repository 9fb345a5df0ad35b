"""The fast path's argument conversion (``compat.fast_convert_arguments``: converters
made once per field) gives what strawberry's ``convert_arguments`` gives, for every
kind of input type, and strawberry's own resolver wrapper uses it only for a schema
on the fast path."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from strawberry.relay import GlobalID
from strawberry.scalars import JSON

from expgraph import compat
from expgraph.config import Settings
from expgraph.schema import build_schema


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.input
class Leaf:
    name: str
    at: datetime | None = None
    data: JSON | None = None
    colour: Colour = Colour.RED
    tags: list[str] = strawberry.field(default_factory=list)
    maybe: strawberry.Maybe[int | None] = None
    strict: strawberry.Maybe[str] = None


@strawberry.input
class Tree:
    leaves: list[Leaf]
    optional_leaves: list[Leaf | None] | None = None
    children: list[Tree] | None = None
    numbers: list[int | None] | None = None
    ref: GlobalID | None = None
    nested: Leaf | None = strawberry.UNSET


@strawberry.type
class Query:
    @strawberry.field
    def echo(self, tree: Tree, leaf: Leaf | None = None, many: list[Leaf] | None = None) -> str:
        return ""


SCHEMA = strawberry.Schema(query=Query)
FIELD = SCHEMA.get_type_by_name("Query").fields[0]  # type: ignore[union-attr]

LEAF = {
    "name": "a",
    "at": datetime(2026, 1, 1, tzinfo=UTC),
    "data": {"k": [1, 2.5, None]},
    "colour": Colour.BLUE,
    "tags": ["x", "y"],
    "maybe": None,
    "strict": "s",
}
VALUES: list[dict[str, Any]] = [
    {"tree": {"leaves": []}},
    {"tree": {"leaves": [{"name": "only"}]}, "leaf": None},
    {"tree": {"leaves": [LEAF, {"name": "b", "maybe": 3}]}, "leaf": LEAF, "many": [LEAF] * 3},
    {
        "tree": {
            "leaves": [LEAF],
            "optional_leaves": [None, LEAF],
            "optionalLeaves": [None, LEAF],
            "children": [{"leaves": [LEAF], "children": [{"leaves": []}]}, {"leaves": []}],
            "numbers": [1, None, 3],
            "ref": "VGFnOjE=",
            "nested": None,
        },
        "many": None,
    },
    {"tree": {"leaves": [], "nested": {"name": "n", "tags": None}}},
]


@pytest.mark.parametrize("value", VALUES)
def test_fast_conversion_equals_strawberrys(value: dict[str, Any]) -> None:
    registry, config = SCHEMA.schema_converter.scalar_registry, SCHEMA.config
    for _ in range(2):  # made once, then cached
        fast = compat.fast_convert_arguments(
            value, FIELD.arguments, scalar_registry=registry, config=config, info=None
        )
        stock = compat.convert_arguments(
            value, FIELD.arguments, scalar_registry=registry, config=config, info=None
        )
        assert fast == stock
        assert repr(fast) == repr(stock)  # same types all the way down (Some, GlobalID, enums)


def test_a_bad_global_id_is_refused_as_strawberry_refuses_it() -> None:
    registry, config = SCHEMA.schema_converter.scalar_registry, SCHEMA.config
    value = {"tree": {"leaves": [], "ref": "not base64"}}
    errors = []
    for convert in (compat.fast_convert_arguments, compat.convert_arguments):
        with pytest.raises(Exception) as raised:
            convert(value, FIELD.arguments, scalar_registry=registry, config=config, info=None)
        errors.append((type(raised.value), str(raised.value)))
    assert errors[0] == errors[1]


def test_strawberrys_wrapper_converts_fast_only_for_a_fast_path_schema() -> None:
    from strawberry.schema import schema_converter

    settings = Settings(database_url="sqlite+aiosqlite://", fast_path=True, _env_file=None)  # type: ignore[call-arg]
    assert build_schema(settings).fast_path
    assert compat.install_fast_argument_conversion() and compat.install_fast_variable_coercion()
    wrapper: Any = schema_converter.convert_arguments
    assert getattr(wrapper, compat._FAST_CONVERSION)
    registry, config = SCHEMA.schema_converter.scalar_registry, SCHEMA.config
    used: list[str] = []

    class Probe:  # what the wrapper reads: the request's schema
        def __init__(self, fast_path: bool) -> None:
            self.schema = type("S", (), {"fast_path": fast_path})()

    def fast(*args: Any, **kwargs: Any) -> Any:
        used.append("fast")
        return {}

    original = compat.fast_convert_arguments
    compat.fast_convert_arguments = fast
    try:
        for fast_path in (True, False):
            wrapper(VALUES[0], FIELD.arguments, registry, config, Probe(fast_path))
    finally:
        compat.fast_convert_arguments = original
    assert used == ["fast"]  # a stock schema's request converts as strawberry does


def _input_type(name: str) -> Any:
    from graphql import GraphQLList, GraphQLNonNull

    named = compat.graphql_schema(SCHEMA).type_map[name]
    return [named, GraphQLNonNull(named), GraphQLList(GraphQLNonNull(named))]


GRAPHQL_LEAF = {"name": "a", "at": "2026-01-01T00:00:00Z", "data": {"k": [1]}, "colour": "BLUE"}
RAW_VALUES: list[Any] = [
    None,
    GRAPHQL_LEAF,
    [GRAPHQL_LEAF, None],
    {"name": "a", "tags": "one"},  # a list accepts a single value
    {"name": "a", "unknown": 1},  # invalid: a field the type does not have
    {"name": None},  # invalid: null for a non-null field
    {"at": "2026-01-01T00:00:00Z"},  # invalid: a required field missing
    {"name": "a", "colour": "GREEN"},  # invalid enum value
    {"name": "a", "at": "2026-01-01T00:00:00"},  # invalid: no offset
    {"name": "a\x00"},  # invalid: NUL
    {"name": 5},
    "not an object",
    [GRAPHQL_LEAF, {"name": 1}],
]


@pytest.mark.parametrize("value", RAW_VALUES)
def test_fast_variable_coercion_equals_graphql_cores(value: Any) -> None:
    from graphql.utilities import coerce_input_value

    for type_ in [*_input_type("Leaf"), *_input_type("Tree")]:
        for _ in range(2):
            fast = compat.fast_coerce_input_value(value, type_)
            stock = coerce_input_value(value, type_)
            assert fast == stock
            assert repr(fast) == repr(stock)


def test_nesting_depth_is_walked_only_for_self_containing_inputs() -> None:
    from graphql.execution.values import input_is_nested_too_deeply as stock

    calls: list[Any] = []

    def counted(value: Any, type_: Any) -> bool:
        calls.append(type_)
        answer: bool = stock(value, type_)
        return answer

    leaf, tree = _input_type("Leaf")[0], _input_type("Tree")[0]
    assert not compat.fast_input_is_nested_too_deeply(GRAPHQL_LEAF, leaf, counted)
    assert calls == []  # Leaf cannot nest: no walk
    deep: dict[str, Any] = {"leaves": []}
    for _ in range(150):
        deep = {"leaves": [], "children": [deep]}
    assert compat.fast_input_is_nested_too_deeply(deep, tree, counted)  # Tree contains Tree
    assert compat.fast_input_is_nested_too_deeply(deep, tree, counted) == stock(deep, tree)
    assert calls == [tree, tree]
