"""Statements whose SQL differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    Float,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class InKeys(ColumnElement[bool]):
    """``column IN <the list passed as parameter name>``.

    PostgreSQL gets one array parameter (``column = ANY($1::BIGINT[])``): the SQL
    is the same for any number of keys, so nothing is rendered per execution
    and the driver reuses one prepared statement. Other databases get an
    expanding ``IN (?, ?, ...)``.
    """

    type = Boolean()
    _is_implicitly_boolean = True  # a comparison: no "= 1" where booleans are integers
    inherit_cache = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.name = name


def in_keys(column: Any, name: str) -> ColumnElement[bool]:
    """``column`` is one of the keys passed at execution as parameter ``name``."""
    return InKeys(column, name)


@compiles(InKeys)
def _expanding_in(element: InKeys, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(InKeys, "postgresql")
def _any_of_array(element: InKeys, compiler: SQLCompiler, **kw: Any) -> str:
    keys = bindparam(element.name, type_=postgresql.ARRAY(element.column.type))
    return compiler.process(element.column == any_(keys), **kw)


def insert_ignoring_conflicts(
    dialect: str,
    table: Table,
    values: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
    conflict_columns: Sequence[str],
) -> Insert:
    """``INSERT ... ON CONFLICT (cols) DO NOTHING`` on either dialect. With
    ``values`` None the rows go as execute()'s parameters instead (executemany:
    SQLAlchemy's "insertmanyvalues" batches them, RETURNING included, and caches
    the compiled statement, where a many-row ``.values()`` is compiled anew
    every call: about a second for 1,000 rows of nine columns)."""
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table)
    if values is not None:
        stmt = stmt.values(values)
    return stmt.on_conflict_do_nothing(index_elements=list(conflict_columns))


def upsert_increment(
    dialect: str,
    table: Table,
    values: Mapping[str, Any],
    conflict_columns: Sequence[str],
    counter: str,
) -> Insert:
    """Insert ``values`` or, when the row exists, add one to its ``counter``."""
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).values(values)
    return stmt.on_conflict_do_update(
        index_elements=list(conflict_columns),
        set_={counter: table.c[counter] + 1},
    )


def insert_columns(
    dialect: str,
    table: Table,
    columns: Sequence[str],
) -> Insert:
    """``INSERT INTO table (columns)`` of rows passed by ``column_params`` at
    execution. PostgreSQL gets one array parameter per column and one statement,
    ``INSERT ... SELECT * FROM unnest($1::BIGINT[], ...)``: executemany would be
    asyncpg running the statement once per row (insertmanyvalues batches only
    INSERTs with RETURNING there), 50-60 ms for 1,000 rows where unnest takes a
    few. Other databases get an executemany of the rows, as ``column_params``
    leaves them. Chain ``on_conflict_do_*`` as with any dialect insert
    (``upsert_columns_adding``)."""
    if dialect != "postgresql":
        return sqlite.insert(table)
    arrays = [_array_param(c, table.c[c].type) for c in columns]
    rows = func.unnest(*arrays).table_valued(*columns).render_derived(name="rows")
    return postgresql.insert(table).from_select(list(columns), select(*rows.c))


def _is_json(type_: Any) -> bool:
    return isinstance(type_.dialect_impl(postgresql.dialect()), JSON)


def _array_param(column: str, type_: Any) -> Any:
    # ARRAY does not apply an item's own conversion: the arrays of a non-native
    # enum and of JSON hold their stored text (``column_params`` makes it).
    param: Any = bindparam(f"{column}__array")
    if isinstance(type_, Enum):
        return cast(param, postgresql.ARRAY(String()))
    if _is_json(type_):
        return cast(cast(param, postgresql.ARRAY(Text())), postgresql.ARRAY(postgresql.JSONB()))
    return cast(param, postgresql.ARRAY(type_))


def column_params(
    dialect: str, table: Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> Any:
    """The parameters of an ``insert_columns`` statement for ``rows``: one list per
    column on PostgreSQL, the rows themselves elsewhere."""
    if dialect != "postgresql":
        return rows
    params = {}
    for c in columns:
        values = [row[c] for row in rows]
        type_ = table.c[c].type
        if isinstance(type_, Enum):
            to_text = type_.bind_processor(postgresql.dialect())
            if to_text is not None:
                values = [to_text(v) for v in values]
        elif _is_json(type_):
            from expgraph.db.engine import dump_jsonb

            values = [dump_jsonb(v) for v in values]  # None as JSON null, as a JSON column
        params[f"{c}__array"] = values
    return params


def insert_columns_ignoring_conflicts(
    dialect: str, table: Table, columns: Sequence[str], conflict_columns: Sequence[str]
) -> Insert:
    """``insert_columns`` with ``ON CONFLICT (cols) DO NOTHING``."""
    stmt: Any = insert_columns(dialect, table, columns)
    return stmt.on_conflict_do_nothing(index_elements=list(conflict_columns))


def upsert_columns_adding(
    dialect: str,
    table: Table,
    columns: Sequence[str],
    conflict_columns: Sequence[str],
    add_columns: Sequence[str],
) -> Insert:
    """``INSERT ... ON CONFLICT (cols) DO UPDATE SET col = table.col + excluded.col``
    for each of ``add_columns`` (running sums), as an ``insert_columns`` statement
    (rows by ``column_params``; one statement on PostgreSQL); a key may appear once
    per call."""
    stmt: Any = insert_columns(dialect, table, columns)
    return stmt.on_conflict_do_update(
        index_elements=list(conflict_columns),
        set_={c: table.c[c] + stmt.excluded[c] for c in add_columns},
    )


def upsert(
    dialect: str,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    conflict_columns: Sequence[str],
    update_columns: Sequence[str],
) -> Insert:
    """``INSERT ... ON CONFLICT (cols) DO UPDATE SET col = excluded.col``."""
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).values(list(rows))
    return stmt.on_conflict_do_update(
        index_elements=list(conflict_columns),
        set_={c: stmt.excluded[c] for c in update_columns} | _touch(table),
    )


def upsert_many(
    dialect: str,
    table: Table,
    conflict_columns: Sequence[str],
    update_columns: Sequence[str],
) -> Insert:
    """``upsert`` with the rows as execute()'s parameters (executemany: one cached
    statement, batched by "insertmanyvalues"); a key may appear once per call."""
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(conflict_columns),
        set_={c: stmt.excluded[c] for c in update_columns} | _touch(table),
    )


def _touch(table: Table) -> dict[str, Any]:
    from expgraph.db.types import utcnow

    return {"updated_at": utcnow()} if "updated_at" in table.c else {}


def integer_series(dialect: str, stop: Any, name: str = "n") -> Any:
    """The integers 1..``stop`` as a one-column table (column ``name``):
    ``generate_series`` on PostgreSQL, a recursive CTE on SQLite (which has no
    table-valued series function built in)."""
    if dialect == "postgresql":
        return func.generate_series(1, stop).table_valued(name).render_derived(f"{name}_series")
    seed = select(literal(1, Integer).label(name)).cte(f"{name}_series", recursive=True)
    return seed.union_all(select((seed.c[name] + 1).label(name)).where(seed.c[name] < stop))


def truncate_time(dialect: str, column: Any, unit: str) -> Any:
    """The start of the UTC ``unit`` ("hour" or "day") holding timestamp ``column``,
    as a timestamp of the same type (bucket starts of aggregates)."""
    from expgraph.db.types import UTCDateTime

    if unit not in ("hour", "day"):
        raise ValueError(unit)
    if dialect == "postgresql":
        return func.date_trunc(unit, column, "UTC", type_=UTCDateTime())
    # SQLite keeps timestamps as UTC text in SQLAlchemy's form: cut it at the unit.
    form = "%Y-%m-%d %H:00:00.000000" if unit == "hour" else "%Y-%m-%d 00:00:00.000000"
    return func.strftime(form, column, type_=UTCDateTime())


def json_number_entries(dialect: str, column: Any, name: str = "entry") -> Any:
    """The entries of a JSON object of numbers as a table of ``key`` and ``value``
    (a number) to join laterally: ``jsonb_each_text`` cast to numeric on
    PostgreSQL (exact sums), ``json_each`` on SQLite."""
    if dialect == "postgresql":
        entries = func.jsonb_each_text(column).table_valued("key", "value").alias(name)
        return entries, entries.c.key, cast(entries.c.value, Numeric)
    entries = func.json_each(column).table_valued("key", "value").alias(name)
    return entries, entries.c.key, cast(entries.c.value, Float)


def sample_stddev(dialect: str, value: Any) -> Any:
    """The sample standard deviation of ``value`` over a group (null below two
    values): ``stddev_samp`` on PostgreSQL; on SQLite, which has no such
    aggregate, from the count, sum and sum of squares (its built-in ``sqrt``)."""
    if dialect == "postgresql":
        return func.stddev_samp(value)
    n = func.count(value)
    variance = (func.sum(value * value) - func.sum(value) * func.sum(value) / n) / (n - 1)
    return case((n < 2, null()), else_=func.sqrt(func.max(variance, 0.0)))


def upsert_from_select(
    dialect: str,
    table: Table,
    columns: Sequence[str],
    rows: Any,
    conflict_columns: Sequence[str],
    update_columns: Sequence[str],
) -> Insert:
    """``INSERT INTO table (columns) SELECT ... ON CONFLICT (cols) DO UPDATE SET
    col = excluded.col`` (on SQLite the SELECT needs a WHERE clause)."""
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).from_select(list(columns), rows)
    return stmt.on_conflict_do_update(
        index_elements=list(conflict_columns),
        set_={c: stmt.excluded[c] for c in update_columns},
    )


async def try_transaction_lock(session: Any, dialect: str, key: int) -> bool:
    """Take the exclusive lock ``key`` until the transaction ends, without waiting:
    False when another transaction holds it (PostgreSQL's
    ``pg_try_advisory_xact_lock``). SQLite's write transactions are exclusive
    already: always True there."""
    if dialect != "postgresql":
        return True
    taken = (await session.execute(select(func.pg_try_advisory_xact_lock(key)))).scalar_one()
    return bool(taken)
