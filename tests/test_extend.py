"""graphql/extend.py: a field one domain adds to another's type shows on the
type and every type inheriting from it, once, and mistakes are refused."""

from __future__ import annotations

import pytest
import strawberry

from expgraph.graphql.extend import apply_extensions, extends


def _types() -> tuple[type, type]:
    @strawberry.interface
    class Animal:
        name: str

    @strawberry.type
    class Cat(Animal):
        lives: int

    return Animal, Cat


@strawberry.interface
class Pet:
    name: str


@strawberry.type
class Cat(Pet):
    lives: int


@strawberry.type
class Query:
    @strawberry.field
    def pet(self) -> Pet:
        return Cat(name="Tom", lives=9)


@extends(Pet)
class Owner:
    @strawberry.field(description="Who owns it.")
    def owner(self) -> str:
        return f"owner of {self.name}"  # type: ignore[attr-defined]


def test_an_extension_adds_its_field_to_the_interface_and_its_implementors() -> None:
    apply_extensions([Owner])
    apply_extensions([Owner])  # a second schema built in the same process

    schema = strawberry.Schema(query=Query, types=[Cat])
    result = schema.execute_sync("{ pet { owner ... on Cat { lives owner } } }")
    assert result.errors is None
    assert result.data == {"pet": {"owner": "owner of Tom", "lives": 9}}
    sdl = schema.as_str()
    assert sdl.count('"""Who owns it."""') == 2  # on Animal and on Cat, once each


def test_an_extension_without_a_resolver_field_is_refused() -> None:
    Animal, _ = _types()
    with pytest.raises(TypeError, match="no resolver"):

        @extends(Animal)
        class Plain:
            owner: str = strawberry.field(default="x")


def test_an_extension_clashing_with_a_declared_field_is_refused() -> None:
    Animal, _ = _types()

    @extends(Animal)
    class Clash:
        @strawberry.field
        def name(self) -> str:
            return "again"

    with pytest.raises(TypeError, match="already has a field 'name'"):
        apply_extensions([Clash])


def test_an_unmarked_class_is_refused() -> None:
    class NotMarked:
        pass

    with pytest.raises(TypeError, match="not marked"):
        apply_extensions([NotMarked])
