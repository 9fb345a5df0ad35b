"""Fields one domain adds to a type another domain owns.

The ``Experiment`` interface belongs to the experiments domain, which imports no
other domain; yet an experiment has a creator (accounts), tags (catalog) and an
execution config (execution). Each of those domains declares its field on a
class marked ``@extends(Experiment)``; when the schema is assembled the field is
added to the interface and to every type that inherits from it, exactly as if it
had been declared there (``expgraph.schema`` lists the extension classes)::

    @extends(Experiment)
    class ExperimentTags:
        tags = connection_field(TAGS, Tag, TAG_ORDERING, description="Its tags.")

Only fields with a resolver (``strawberry.field(resolver=...)`` and the kernel's
field builders) can be added: a plain attribute would be a constructor argument.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from strawberry.types.base import get_object_definition
from strawberry.types.field import StrawberryField

T = TypeVar("T", bound=type)

_TARGET = "__expgraph_extends__"
_APPLIED: set[tuple[type, type, str]] = set()


def extends(target: type) -> Callable[[T], T]:
    """Mark a class whose fields are to be added to ``target`` (a strawberry type
    or interface) and to every type inheriting from it, at schema assembly."""

    def mark(extension: T) -> T:
        if not dict(_declared_fields(extension)):
            raise TypeError(f"{extension.__name__} declares no field with a resolver")
        setattr(extension, _TARGET, target)
        return extension

    return mark


def apply_extensions(extensions: Iterable[type]) -> None:
    """Add each ``@extends`` class's fields to its target and the target's
    subclasses (idempotent: each field is added to each type once)."""
    for extension in extensions:
        target = getattr(extension, _TARGET, None)
        if target is None:
            raise TypeError(f"{extension.__name__} is not marked @extends(...)")
        for name, field in _declared_fields(extension):
            for cls in _with_subclasses(target):
                definition = get_object_definition(cls)
                # Subclasses that are not types of their own (the kernel's record
                # views, see relay.node_type) share their parent's definition.
                if definition is None or definition.origin is not cls:
                    continue
                if (cls, extension, name) in _APPLIED:
                    continue
                if any(f.python_name == name for f in definition.fields):
                    raise TypeError(f"{cls.__name__} already has a field {name!r}")
                added = copy.copy(field)
                added.python_name = name
                added.origin = cls
                definition.fields.append(added)
                _APPLIED.add((cls, extension, name))


def _declared_fields(extension: type) -> Iterator[tuple[str, StrawberryField]]:
    for name, value in vars(extension).items():
        if isinstance(value, StrawberryField):
            if value.base_resolver is None:
                raise TypeError(f"{extension.__name__}.{name} has no resolver")
            yield name, value


def _with_subclasses(cls: type) -> Iterator[type]:
    seen: set[type] = set()
    stack = [cls]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        yield current
        stack.extend(current.__subclasses__())
