"""Relay: the ``Node`` interface, opaque global ids, and the node registry.

A global id is ``base64url("TypeName:pk")``. Each node type registers the ORM
model it mirrors, and who may read it, with ``@node_type(Model, read=...)``; the
registry then answers "which GraphQL type shows this row", "which model does
this id name" and "who may see this row" (see ``visibility``), so no code
branches on type names.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from strawberry.types.base import get_object_definition

from expgraph.db.base import Base
from expgraph.graphql.errors import BadRequest

if TYPE_CHECKING:
    from expgraph.graphql.visibility import ReadRule

T = TypeVar("T")


@strawberry.interface(description="An object with a globally unique, opaque id.")
class Node:
    id: strawberry.ID

    @classmethod
    def resolve_type(cls, obj: Any, _info: Any, _abstract_type: Any) -> str:
        """The GraphQL type of a node object: its own strawberry type (every node
        is made by ``to_node``), read directly instead of strawberry's search."""
        return str(type(obj).__strawberry_definition__.name)


def encode_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def decode_id(global_id: str) -> tuple[str, int]:
    """``(type name, primary key)``; BAD_REQUEST when malformed."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
        type_name, _, pk = raw.partition(":")
        if not type_name or not pk.isdigit():
            raise ValueError(raw)
        return type_name, int(pk)
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise BadRequest(f"malformed id: {global_id!r}") from exc


@dataclass(frozen=True)
class NodeSpec:
    type_name: str
    gql_type: type
    model: type[Base]
    fields: tuple[tuple[str, str], ...]  # (python field name, record attribute)
    view: type  # what ``to_node`` makes: ``gql_type`` reading its fields off the record
    read: ReadRule  # who may read its records (``visibility``)


def record_view(cls: type, type_name: str, fields: tuple[tuple[str, str], ...]) -> type:
    """A subclass of node type ``cls`` whose plain fields and ``id`` are read off
    ``self.record`` when asked for: making a node costs one object, however
    many columns its row has and however few the document selects."""

    def global_id(self: Any) -> str:
        return encode_id(type_name, self.record.id)

    namespace: dict[str, Any] = {
        name: property(attrgetter(f"record.{attr}")) for name, attr in fields
    }
    namespace["id"] = property(global_id)
    namespace["__module__"] = cls.__module__
    namespace["__doc__"] = cls.__doc__
    return type(cls.__name__, (cls,), namespace)


class NodeRegistry:
    def __init__(self) -> None:
        self._by_name: dict[str, NodeSpec] = {}
        self._by_model: dict[type[Base], NodeSpec] = {}

    def register(self, spec: NodeSpec) -> None:
        self._by_name[spec.type_name] = spec
        self._by_model[spec.model] = spec

    def by_name(self, type_name: str) -> NodeSpec | None:
        return self._by_name.get(type_name)

    def for_record(self, record: Base) -> NodeSpec:
        return self._by_model[type(record)]

    def for_model(self, model: type) -> NodeSpec | None:
        return self._by_model.get(model)

    def specs(self) -> list[NodeSpec]:
        return [self._by_name[name] for name in sorted(self._by_name)]

    def models_under(self, model: type[Base]) -> set[str]:
        return {name for name, spec in self._by_name.items() if issubclass(spec.model, model)}


registry = NodeRegistry()


def node_type(
    model: type[Base], *, read: ReadRule, renames: dict[str, str] | None = None
) -> Callable[[type[T]], type[T]]:
    """Register a strawberry type as the GraphQL face of ``model``, readable by
    whom ``read`` says (``visibility.Public``, ``OwnerOrAdmin(...)``,
    ``AdminOnly``: required, so no type can forget it).

    Plain (resolver-less) fields are copied from the record's attribute of the
    same name, or the one ``renames`` gives; ``id`` becomes the global id. The
    record stays on the object as ``record`` for relationship resolvers.
    """
    renames = renames or {}

    def wrap(cls: type[T]) -> type[T]:
        definition = get_object_definition(cls, strict=True)
        fields = tuple(
            (f.python_name, renames.get(f.python_name, f.python_name))
            for f in definition.fields
            if f.base_resolver is None and f.python_name not in ("id", "record")
        )
        view = record_view(cls, definition.name, fields)
        registry.register(NodeSpec(definition.name, cls, model, fields, view, read))
        return cls

    return wrap


def to_node(record: Any) -> Any:
    """The GraphQL object for an ORM row (None stays None), whoever asks: for
    mutation payloads. Read paths make nodes with ``visibility.node_for``,
    which applies the type's read rule."""
    if record is None:
        return None
    return make_view(registry.for_record(record), record)


def make_view(spec: NodeSpec, record: Any) -> Any:
    """The GraphQL object of node type ``spec`` for ``record``."""
    obj: Any = object.__new__(spec.view)
    obj.__dict__["record"] = record
    return obj


def model_pk(global_id: str, model: type[Base]) -> int:
    """The primary key a global id names, checking it names a ``model`` (or subclass)."""
    type_name, pk = decode_id(global_id)
    spec = registry.by_name(type_name)
    if spec is None or not issubclass(spec.model, model):
        raise BadRequest(f"id {global_id!r} is not a {model.__name__} id")
    return pk
