"""Checks every mutation input needs: text lengths, JSON objects, given vs unset."""

from __future__ import annotations

from typing import Any

from strawberry.types.unset import UNSET

from expgraph.graphql.errors import BadRequest, camel


def graphql_name(field: str) -> str:
    """The GraphQL name of an input field given by its Python or column name
    (``master_seed`` -> ``masterSeed``; a trailing ``_`` dropped, a GraphQL
    name unchanged): what every validation message names."""
    return camel(field.rstrip("_"))


def article(word: str) -> str:
    """``a`` or ``an``, as the (spelled, not acronym-read) ``word`` takes it."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def given(value: Any) -> bool:
    """Whether an optional input field was sent (``null`` counts as sent)."""
    return value is not UNSET


def text(value: str, field: str, *, max_length: int, min_length: int = 1) -> str:
    """``value`` stripped, with its length checked."""
    field = graphql_name(field)
    if "\x00" in value:
        raise BadRequest(f"{field} must not contain NUL characters", field=field)
    stripped = value.strip()
    if len(stripped) < min_length:
        raise BadRequest(f"{field} must not be empty", field=field)
    if len(stripped) > max_length:
        raise BadRequest(f"{field} is longer than {max_length} characters", field=field)
    return stripped


def optional_text(value: str | None, field: str, *, max_length: int) -> str | None:
    if value is None:
        return None
    stripped = value.strip()
    return text(stripped, field, max_length=max_length) if stripped else None


def json_object(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        name = graphql_name(field)
        raise BadRequest(f"{name} must be a JSON object", field=name)
    return value


def positive(value: int | None, field: str, *, allow_zero: bool = False) -> int | None:
    if value is not None and (value < 0 or (value == 0 and not allow_zero)):
        name = graphql_name(field)
        raise BadRequest(f"{name} must be {'>= 0' if allow_zero else '> 0'}", field=name)
    return value


def values_given(obj: Any, renames: dict[str, str] | None = None) -> dict[str, Any]:
    """The fields of an input object that were sent, by column name."""
    renames = renames or {}
    return {
        renames.get(name, name): value
        for name, value in vars(obj).items()
        if value is not UNSET and not name.startswith("_")
    }
