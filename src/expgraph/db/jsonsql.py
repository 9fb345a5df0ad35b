"""JSON built in SQL, for the read-query compiler (``graphql/compiled/``).

Every difference between PostgreSQL and SQLite in building a GraphQL
response inside the database is here:

- objects and arrays: ``json_build_object``/``json_agg`` on PostgreSQL
  (``json``, not ``jsonb``: key order is the document's). On SQLite, JSON
  text concatenated with ``||`` (``'{"key":' || json_quote(value) || '}'``),
  arrays with ``group_concat``: SQLite's parser has a fixed stack (100
  entries) that every nested function call fills, and a page of nodes with
  pages of children nests deep; a concatenation does not nest. Each value is
  written as JSON by ``json_quote`` (strings, numbers, NULL), except JSON text
  (``_JsonText``: made here, or read back from a subquery), spliced as it is;
- output coercion identical to the GraphQL layer's: global ids
  (``base64url("Type:pk")`` without padding, as ``relay.encode_id``; SQLite has
  no base64, so ``register_sqlite_functions`` adds ``expgraph_b64url`` to every
  connection), timestamps as ``scalars.serialize_datetime`` writes them (UTC,
  ``Z``, microseconds only when not zero), BigInt as decimal text, enums by
  their GraphQL name (the database holds their value), booleans as JSON
  booleans (SQLite's 0/1), JSON columns spliced as JSON, doubles as orjson
  writes them (``float_number``);
- the text of a keyset cursor, exactly as ``pagination.encode_cursor`` makes it;
- ``RenamedKey``: a JSON object with one key shown under another name, for
  rules of fields that show a stored object (``prefetch.computed``).
"""

from __future__ import annotations

import base64
import enum
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    Integer,
    String,
    Text,
    case,
    cast,
    func,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import ScalarSelect
from sqlalchemy.types import TypeDecorator

B64URL_FUNCTION = "expgraph_b64url"
FLOAT_FUNCTION = "expgraph_float_json"
# A JSON string the compiled statement writes where the executor would answer an
# error (a null in a non-null field, an enum value no member has): the caller
# finds it in the text and lets the executor answer instead.
VIOLATION = "expgraph:compiled-value-refused"


def _b64url(text: str | None) -> str | None:
    """base64url of the UTF-8 text, without padding (SQLite's ``expgraph_b64url``)."""
    if text is None:
        return None
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _float_json(value: float | None) -> str | None:
    """The JSON text orjson writes for a float (SQLite's ``expgraph_float_json``);
    ``VIOLATION`` as a JSON string for what no JSON number is (NaN, infinities:
    the executor refuses them)."""
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        return orjson.dumps(VIOLATION).decode()
    return orjson.dumps(number).decode()


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Add expgraph's deterministic SQL functions to a new SQLite connection."""
    dbapi_connection.create_function(B64URL_FUNCTION, 1, _b64url, deterministic=True)
    dbapi_connection.create_function(FLOAT_FUNCTION, 1, _float_json, deterministic=True)


def quoted(text: str) -> ColumnElement[Any]:
    """A constant SQL string literal (keys and type names: never client text)."""
    return literal_column("'" + text.replace("'", "''") + "'", Text)


class _JsonText(TypeDecorator[str]):
    """SQLite: JSON text (NULL for a JSON null), spliced into objects as it is."""

    impl = Text
    cache_ok = True


class _JsonTextAlways(_JsonText):
    """SQLite: JSON text that is never NULL (an object or array built here)."""

    cache_ok = True


class JsonSQL:
    """SQL building JSON for one dialect (``postgresql`` or ``sqlite``)."""

    MAX_KEYS = 50  # json_build_object takes at most 100 arguments

    def __init__(self, dialect: str) -> None:
        if dialect not in ("postgresql", "sqlite"):
            raise ValueError(f"no JSON SQL for {dialect!r}")
        self.dialect = dialect
        self.pg = dialect == "postgresql"
        # Levels of pages and lists in one statement (a root connection's page
        # counts), at most: SQLite's parser has a fixed stack ("parser stack
        # overflow"); PostgreSQL has no such limit.
        self.MAX_NESTED: int | None = None if self.pg else 3

    # --- JSON values ---------------------------------------------------------------

    def object(self, pairs: Sequence[tuple[str, ColumnElement[Any]]]) -> ColumnElement[Any]:
        """A JSON object with these keys, in this order."""
        if len(pairs) > self.MAX_KEYS:
            raise ValueError("too many keys for one JSON object")
        if self.pg:
            arguments: list[Any] = []
            for key, value in pairs:
                arguments.extend((quoted(key), value))
            return func.json_build_object(*arguments)
        parts: list[Any] = []
        for i, (key, value) in enumerate(pairs):
            opening = ("," if i else "{") + orjson.dumps(key).decode() + ":"
            parts += [quoted(opening), self._text(value)]
        parts.append(quoted("}" if pairs else "{}"))
        return type_coerce(self.concat(parts), _JsonTextAlways())

    def _text(self, value: Any) -> Any:
        """SQLite: a value as the JSON text to splice."""
        kind = getattr(value, "type", None)
        if isinstance(kind, _JsonTextAlways):
            return value
        if isinstance(kind, _JsonText):
            return func.coalesce(value, quoted("null"))
        return func.json_quote(value)

    def embed(self, value: ColumnElement[Any], always: bool = False) -> ColumnElement[Any]:
        """A JSON value read from a subquery, to embed in an object or array
        (``always``: never null, e.g. an aggregate's array)."""
        if self.pg:
            return value
        return type_coerce(value, _JsonTextAlways() if always else _JsonText())

    def maybe(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        """A JSON value that may be null (e.g. ``CASE WHEN readable THEN object END``)."""
        return value if self.pg else type_coerce(value, _JsonText())

    def array(self, value: ColumnElement[Any], *order: Any) -> ColumnElement[Any]:
        """The aggregate JSON array of ``value`` over the rows in ``order`` (one
        or more sort clauses), ``[]`` for none. (SQLite before 3.44 has no ORDER
        BY in aggregates: it takes the rows in the order its subquery, ordered
        and limited, gives them, which the caller's subquery must do.)"""
        if self.pg:
            ordered = func.json_agg(aggregate_order_by(value, *order))
            return func.coalesce(ordered, literal_column("'[]'::json"))
        items = func.coalesce(func.group_concat(self._text(value), quoted(",")), quoted(""))
        return type_coerce(quoted("[").concat(items).concat(quoted("]")), _JsonTextAlways())

    def once(
        self,
        values: Mapping[str, Any],
        outer: Any,
        build: Callable[[Mapping[str, Any]], ColumnElement[Any]],
    ) -> ColumnElement[Any]:
        """``build(values)`` where each of ``values`` (scalar subqueries
        correlated to ``outer``, the row's table or subquery) is computed once
        per row however often ``build`` reads it. PostgreSQL runs a scalar
        subquery once per mention: there they become the columns of a one-row
        derived table, kept from being merged back into ``build``'s expression by
        ``OFFSET 0``. SQLite keeps the mentions (another subquery level would
        count against its parser's stack)."""
        if not self.pg:
            return build(values)
        row = select(
            *(
                (v.correlate(outer) if isinstance(v, ScalarSelect) else v).label(name)
                for name, v in values.items()
            )
        )
        shared = row.offset(literal_column("0", Integer())).subquery()
        value = build({name: shared.c[name] for name in values})
        return select(value).select_from(shared).scalar_subquery()

    def constant(self, value: bool) -> ColumnElement[Any]:
        """A JSON boolean."""
        if self.pg:
            return literal_column("true" if value else "false")
        return type_coerce(quoted("true" if value else "false"), _JsonTextAlways())

    def boolean(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        if self.pg:
            return value
        flag = case(
            (value.is_(None), literal_column("NULL")),
            (type_coerce(value, Integer()) != 0, quoted("true")),
            else_=quoted("false"),
        )
        return type_coerce(flag, _JsonText())

    def text(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        """A value as text (BigInt's decimal string)."""
        return cast(value, Text)

    def json_column(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        """A JSON column's value, spliced as JSON (not as a string)."""
        return value if self.pg else type_coerce(value.op("->")(quoted("$")), _JsonText())

    def text_of(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        """A statement's JSON value as its text (SQLite's JSON is text already)."""
        return cast(value, Text) if self.pg else value

    def enum_name(
        self, value: ColumnElement[Any], enum_class: type[enum.Enum], required: bool = False
    ) -> Any:
        """The GraphQL name of a stored enum value (the database holds ``.value``):
        a simple ``CASE`` (``value`` computed once); null stays null, or is
        refused when ``required``."""
        raw = type_coerce(value, String())
        whens = {str(m.value): quoted(m.name) for m in enum_class}
        absent = self.refused() if required else literal_column("NULL")
        other = case((value.is_(None), absent), else_=self.refused())
        return case(whens, value=raw, else_=other)

    def refused(self) -> ColumnElement[Any]:
        """``VIOLATION``, as a JSON string."""
        return quoted(VIOLATION)

    def as_json(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        """A scalar (number, text, boolean) as a JSON value (PostgreSQL's
        ``to_json``; SQLite's values are JSON as they are)."""
        if self.pg:
            return func.to_json(value)
        return type_coerce(self._text(value), _JsonTextAlways())

    def refused_json(self) -> ColumnElement[Any]:
        """``VIOLATION`` as a JSON value, where the other branches are JSON."""
        text = quoted(orjson.dumps(VIOLATION).decode())
        return cast(text, JSON) if self.pg else type_coerce(text, _JsonTextAlways())

    def float_number(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        """A double column as the JSON number orjson writes for its Python float.

        PostgreSQL writes a double's shortest round-trip digits (``extra_float_digits``
        at its default, 1), as orjson does; it writes them plainly for 1e-4 <= |x|
        < 1e15 (where orjson does too) but without ``.0`` for whole numbers: added.
        Elsewhere (an exponent, NaN, infinities) the formats differ: refused, so
        the executor answers. SQLite: orjson itself, through ``expgraph_float_json``."""
        if not self.pg:
            return type_coerce(getattr(func, FLOAT_FUNCTION)(value), _JsonText())
        text = cast(value, Text)
        return case(
            (value.is_(None), literal_column("NULL")),
            (text.op("~")(quoted("[eEnN]")), self.refused_json()),
            (func.strpos(text, quoted(".")) > 0, cast(text, JSON)),
            else_=cast(text.concat(quoted(".0")), JSON),
        )

    def global_id(self, type_name: str, pk: ColumnElement[Any]) -> ColumnElement[Any]:
        """``relay.encode_id(type_name, pk)`` in SQL."""
        return self.b64url(quoted(f"{type_name}:").concat(cast(pk, Text)))

    def b64url(self, text: ColumnElement[Any]) -> ColumnElement[Any]:
        """base64url of UTF-8 text without padding."""
        if self.pg:
            encoded = func.encode(func.convert_to(text, quoted("UTF8")), quoted("base64"))
            # PostgreSQL breaks base64 lines every 76 characters: drop the breaks.
            return func.rtrim(
                func.translate(encoded, literal_column("E'+/\\n'"), quoted("-_")), quoted("=")
            )
        return getattr(func, B64URL_FUNCTION)(text)

    def datetime_text(self, value: ColumnElement[Any], zone: str = "Z") -> ColumnElement[Any]:
        """A UTC timestamp column as ``datetime.isoformat()`` of its UTC value,
        with ``zone`` for ``+00:00`` (``Z``: ``serialize_datetime``; ``+00:00``:
        cursors). NULL stays NULL (text concatenated with NULL is NULL). Flat
        (SQLite's parser has a small stack: cursors sit at the deepest level)."""
        if self.pg:
            utc = value.op("AT TIME ZONE")(quoted("UTC"))
            seconds: Any = func.to_char(utc, quoted('YYYY-MM-DD"T"HH24:MI:SS'))
            micro = func.to_char(utc, quoted("US"))
        else:
            # SQLite holds 'YYYY-MM-DD HH:MM:SS[.f...]' (SQLAlchemy's form, or the
            # database clock's milliseconds, in UTC): the fraction padded to six.
            seconds = (
                func.substr(value, 1, 10).concat(quoted("T")).concat(func.substr(value, 12, 8))
            )
            micro = func.substr(type_coerce(value, String()).concat(quoted("0000000")), 21, 6)
        fraction = case({"000000": quoted("")}, value=micro, else_=quoted(".").concat(micro))
        return seconds.concat(fraction).concat(quoted(zone))

    # --- cursor text -----------------------------------------------------------------

    def json_string(self, text: ColumnElement[Any]) -> ColumnElement[Any]:
        """The JSON text of a string value (quoted, escaped)."""
        if self.pg:
            return cast(func.to_json(cast(text, Text)), Text)
        return func.json_quote(cast(text, Text))

    def concat(self, parts: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
        result = parts[0]
        for part in parts[1:]:
            result = result.concat(part)
        return result


# --- a stored JSON object shown with one key renamed -----------------------------------


class RenamedKey(FunctionElement[Any]):
    """``RenamedKey(value, stored, shown)``: the JSON object ``value`` as Python
    shows it after ``shown = {k: v for k, v in value.items() if k != stored};
    shown[shown_key] = value[stored]`` (when ``stored`` is there): the key moves
    last under its new name. Anything else (not an object, no such key) as it
    is; NULL stays NULL. An object holding both keys gives the refusal marker
    (Python would keep the new key's place: not worth writing in SQL)."""

    type = JSON()
    inherit_cache = True
    name = "renamed_key"

    def __init__(self, value: Any, stored: str, shown: str) -> None:
        # The keys, and their JSON paths (SQLite's functions take paths).
        paths = (quoted(f'$."{stored}"'), quoted(f'$."{shown}"'))
        super().__init__(value, quoted(stored), quoted(shown), *paths)


@compiles(RenamedKey, "postgresql")
def _renamed_postgresql(element: RenamedKey, compiler: Any, **kw: Any) -> str:
    # jsonb prints keys in its own order (as asyncpg hands them to Python); the
    # moved key is appended to that text.
    value, stored, shown, *_ = (compiler.process(c, **kw) for c in element.clauses)
    refused = orjson.dumps(VIOLATION).decode()
    rest = f"({value} - {stored})"
    return (
        f"(CASE WHEN jsonb_typeof({value}) = 'object' AND ({value} -> {stored}) IS NOT NULL "
        f"THEN CASE WHEN ({value} -> {shown}) IS NOT NULL THEN CAST('{refused}' AS json) "
        f"ELSE CAST(CASE WHEN {rest} = '{{}}'::jsonb THEN '{{' "
        f"ELSE left(CAST({rest} AS text), -1) || ', ' END "
        f"|| CAST(to_json(CAST({shown} AS text)) AS text) || ': ' "
        f"|| CAST({value} -> {stored} AS text) || '}}' AS json) END "
        f"ELSE CAST({value} AS json) END)"
    )


@compiles(RenamedKey, "sqlite")
def _renamed_sqlite(element: RenamedKey, compiler: Any, **kw: Any) -> str:
    # json_set appends a new key last. One flat CASE, operators where SQLite has
    # them: its parser's stack is small.
    value, *_, stored, shown = (compiler.process(c, **kw) for c in element.clauses)
    refused = orjson.dumps(VIOLATION).decode()
    return (
        f"CASE WHEN json_type({value}) <> 'object' "
        f"OR json_type({value}, {stored}) IS NULL THEN {value} -> '$' "
        f"WHEN json_type({value}, {shown}) IS NOT NULL THEN json('{refused}') "
        f"ELSE json_set(json_remove({value}, {stored}), {shown}, {value} -> {stored}) END"
    )
