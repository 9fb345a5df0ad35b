"""Rows read as plain records (db/records.py): the same values as ORM objects,
no session bookkeeping, each kind of a single-table hierarchy as its class."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect, select

from expgraph.db.records import read_records
from expgraph.domains.catalog.models import DatasetExample
from expgraph.domains.experiments.models import (
    EvaluationExperiment,
    Experiment,
    SimulationExperiment,
)
from expgraph.graphql.loaders import PARENT_KEYS, RowsById, _rows_statement
from tests.helpers import create_experiment
from tests.test_execution import setup_evaluation


@pytest.mark.fast_path  # bare records are the fast path's; the ORM answers otherwise
async def test_records_hold_what_orm_objects_hold(gql, db):
    await setup_evaluation(gql, "records", examples=3)
    async with db.read() as session:
        loaded = (await session.scalars(select(DatasetExample).order_by(DatasetExample.id))).all()
        expected = [
            {prop.key: getattr(row, prop.key) for prop in inspect(DatasetExample).column_attrs}
            for row in loaded
        ]
        ids = [row.id for row in loaded]
    async with db.read() as session:
        rows = await read_records(
            session, _rows_statement(RowsById(DatasetExample)), {PARENT_KEYS: ids}, DatasetExample
        )
        assert not session.identity_map  # nothing for the session to track
    records = sorted((row[0] for row in rows), key=lambda record: record.id)
    assert [type(record) for record in records] == [DatasetExample] * 3
    assert [{key: getattr(record, key) for key in expected[0]} for record in records] == expected
    assert expected[0]["metadata_"] is not None  # an attribute named unlike its column


@pytest.mark.fast_path  # bare records are the fast path's; the ORM answers otherwise
async def test_single_table_kinds_become_records_of_their_class(gql, db):
    await create_experiment(gql, "an evaluation", "EVALUATION")
    await create_experiment(gql, "a simulation", "SIMULATION")
    async with db.read() as session:
        pks = list((await session.scalars(select(Experiment.id))).all())
        rows = await read_records(
            session, _rows_statement(RowsById(Experiment)), {PARENT_KEYS: pks}, Experiment
        )
        assert not session.identity_map
    kinds = {row[0].name: type(row[0]) for row in rows}
    assert kinds == {"an evaluation": EvaluationExperiment, "a simulation": SimulationExperiment}
    record = next(row[0] for row in rows if row[0].name == "an evaluation")
    assert record.kind.value == "evaluation" and record.created_at is not None
    assert "search_vector" not in record.__dict__  # deferred: left out


async def test_key_lists_of_any_length_are_one_parameter(gql, db, dialect):
    """Loader keys: one array parameter on PostgreSQL (the same SQL, so one
    prepared statement, for any batch size), an expanding IN on SQLite."""
    await setup_evaluation(gql, "keys", examples=3)
    stmt = _rows_statement(RowsById(DatasetExample))
    sql = str(stmt.compile(dialect=db.engine.dialect))
    assert ("= ANY" in sql) == (dialect == "postgresql")
    async with db.read() as session:
        ids = list((await session.scalars(select(DatasetExample.id))).all())
        for keys in ([ids[0]], ids, ids + list(range(10**6, 10**6 + 150))):
            rows = await read_records(session, stmt, {PARENT_KEYS: keys}, DatasetExample)
            assert sorted(row[0].id for row in rows) == sorted(set(keys) & set(ids))


async def test_reusable_statements_read_directly_give_the_orms_values(settings, db, dialect):
    """Every node type's rows by id, read directly on asyncpg (PostgreSQL) or
    through SQLAlchemy (SQLite), hold exactly what ORM objects hold: JSON,
    enums, timestamps, numerics, nulls. The statements are counted as sent."""
    from sqlalchemy import event

    from expgraph.db import direct
    from expgraph.demo import load_demo
    from expgraph.graphql.relay import registry
    from tests.test_executor import _add_runs

    await load_demo(settings, seed=3, experiments=40, progress=False)
    await _add_runs(db)  # runs: numerics, JSON, errors; their annotations
    sent: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("SELECT"):
            sent.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", on_execute)
    checked = 0
    for spec in registry.specs():
        model = spec.model
        attributes = [prop.key for prop in inspect(model).column_attrs if not prop.deferred]
        async with db.read() as session:
            orm = (await session.scalars(select(model).order_by(model.id).limit(50))).all()
            expected = {row.id: {key: getattr(row, key) for key in attributes} for row in orm}
        if not expected:
            continue
        statement = _rows_statement(RowsById(model))
        sent.clear()
        async with db.read() as session:
            rows = await read_records(session, statement, {PARENT_KEYS: list(expected)}, model)
        assert len(sent) == 1, model  # counted, whichever way it ran
        got = {row[0].id: {key: getattr(row[0], key) for key in attributes} for row in rows}
        assert got == expected, model
        assert [type(row[0]) for row in rows] == [type(row) for row in orm]
        compiled = direct._REUSABLE[statement]
        if dialect == "postgresql":  # it ran directly
            assert compiled.get("postgresql") is not None, model
        else:
            assert "sqlite" not in compiled, model
        checked += 1
    assert checked >= 15
    async with db.read() as session:  # a kind's statement keeps other kinds out
        every = list((await session.scalars(select(Experiment.id))).all())
        rows = await read_records(
            session,
            _rows_statement(RowsById(SimulationExperiment)),
            {PARENT_KEYS: every},
            Experiment,
        )
    assert rows and {type(row[0]) for row in rows} == {SimulationExperiment}
    assert len(rows) < len(every)


@pytest.mark.fast_path
async def test_a_reusable_statements_own_values_go_through_their_types(gql, db, dialect):
    """Values written into a reusable statement (an enum compared with its column)
    are sent as their column type stores them: the statement runs once, directly on
    asyncpg, not a failed direct attempt and then SQLAlchemy's."""
    from sqlalchemy import event, update

    from expgraph.db import direct
    from expgraph.db.records import read_rows
    from expgraph.domains.experiments.models import ExperimentStatus

    await create_experiment(gql, "drafted")
    await create_experiment(gql, "running")
    async with db.transaction() as session:
        await session.execute(
            update(Experiment)
            .where(Experiment.name == "running")
            .values(status=ExperimentStatus.RUNNING)
        )
    sent: list[str] = []
    event.listen(
        db.engine.sync_engine,
        "before_cursor_execute",
        lambda *a: sent.append(a[2]) if a[2].startswith("SELECT") else None,
    )
    statement = direct.reusable(
        select(Experiment.name).where(Experiment.status == ExperimentStatus.RUNNING)
    )
    async with db.read() as session:
        rows = await read_rows(session, statement)
    assert [tuple(row) for row in rows] == [("running",)]
    assert len(sent) == 1, sent
    if dialect == "postgresql":
        assert direct._REUSABLE[statement].get("postgresql") is not None
