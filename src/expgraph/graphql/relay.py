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
import re
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


ID_DESCRIPTION = (
    "Globally unique, opaque id: give it to `node(id:)`, or to any argument that "
    "takes this type's id. Stable for the object's life."
)
# Fields every node type declares the same way, described once here (a type
# that says more about one of them declares its own description).
COMMON_DESCRIPTIONS = {
    "id": ID_DESCRIPTION,
    "created_at": "When it was created (UTC).",
    "updated_at": "When it last changed (UTC).",
}


@strawberry.interface(description="An object with a globally unique, opaque id.")
class Node:
    id: strawberry.ID = strawberry.field(description=ID_DESCRIPTION)

    @classmethod
    def resolve_type(cls, obj: Any, _info: Any, _abstract_type: Any) -> str:
        """The GraphQL type of a node object: its own strawberry type (every node
        is made by ``to_node``), read directly instead of strawberry's search."""
        return str(type(obj).__strawberry_definition__.name)


def encode_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


_ID_TEXT = re.compile(r"[A-Za-z0-9_-]{1,200}")
_ID_RAW = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):([1-9][0-9]{0,18})")
MAX_PK = 2**63 - 1


def decode_id(global_id: str) -> tuple[str, int]:
    """``(type name, primary key)``; BAD_REQUEST when malformed.

    Strict: only the exact text ``encode_id`` makes is an id (no padding, no
    stray characters, a key of ASCII digits without leading zeros, 1..2^63-1),
    so one row has one id and no id names a key the database cannot hold."""
    try:
        if not _ID_TEXT.fullmatch(global_id):
            raise ValueError(global_id)
        padded = global_id + "=" * (-len(global_id) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        match = _ID_RAW.fullmatch(raw)
        if match is None or int(match.group(2)) > MAX_PK:
            raise ValueError(raw)
        type_name, pk = match.group(1), int(match.group(2))
        if encode_id(type_name, pk) != global_id:
            raise ValueError(raw)  # not the canonical text (e.g. trailing bits set)
        return type_name, pk
    except (ValueError, UnicodeError, binascii.Error, TypeError) as exc:
        shown = global_id[:60] + ("..." if len(global_id) > 60 else "")
        raise BadRequest(f"malformed id: {shown!r}") from exc


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
        for field in definition.fields:
            if not field.description and field.python_name in COMMON_DESCRIPTIONS:
                field.description = COMMON_DESCRIPTIONS[field.python_name]
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


def named_pk(global_id: str, type_name: str) -> int:
    """The primary key a global id names, checking it names a ``type_name`` node:
    for an id of a type another domain owns, named by its GraphQL name."""
    spec = registry.by_name(type_name)
    if spec is None:
        raise LookupError(f"no node type named {type_name!r}")
    return model_pk(global_id, spec.model)


def model_pk(global_id: str, model: type[Base]) -> int:
    """The primary key a global id names, checking it names a ``model`` (or subclass)."""
    type_name, pk = decode_id(global_id)
    spec = registry.by_name(type_name)
    if spec is None or not issubclass(spec.model, model):
        wanted = graphql_type_name(model)
        article = "an" if wanted[:1].lower() in "aeiou" else "a"
        raise BadRequest(f"id {global_id!r} is not {article} {wanted} id")
    return pk


def graphql_type_name(model: type[Base]) -> str:
    """The GraphQL type a client knows ``model`` by: its node type's name, else
    the model's class name (a base such as ``Experiment``, an interface)."""
    spec = registry.for_model(model)
    return spec.type_name if spec is not None else model.__name__
