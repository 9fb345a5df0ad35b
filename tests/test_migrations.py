"""Migrations: up from empty and back down, and no drift between models and database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from expgraph.db import migrate
from expgraph.db.search import SEARCH_OBJECTS
from expgraph.models import Base


def _diff(connection):
    # Full-text search's FTS5 table and GIN index are made by hand (0015).
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_object": lambda _o, name, *_: name not in SEARCH_OBJECTS,
        },
    )
    return compare_metadata(context, Base.metadata)


def _tables(connection):
    return set(inspect(connection).get_table_names()) - {"alembic_version", *SEARCH_OBJECTS}


async def test_models_and_migrated_database_do_not_drift(db):
    # The test database was migrated to head from empty (the template).
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_diff) == []
        assert await migrate.current_revision(db.engine) == migrate.head_revision(
            db.settings.database_url
        )


async def test_downgrade_to_empty_and_upgrade_again(db):
    url = db.settings.database_url
    migrate.downgrade(url, "base")
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_tables) == set()
    migrate.upgrade(url)
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_tables) == set(Base.metadata.tables)
        assert await connection.run_sync(_diff) == []


async def test_partial_unique_index_exists_on_both_dialects(db):
    def indexes(connection):
        return {ix["name"]: ix for ix in inspect(connection).get_indexes("experiments")}

    async with db.engine.connect() as connection:
        found = await connection.run_sync(indexes)
    assert found["uq_experiments_name_not_deleted"]["unique"]


async def test_0008_recounts_tag_usage_over_live_experiments(db):
    """Counts written before 0008 included soft-deleted experiments; 0008 recounts."""
    from datetime import UTC, datetime

    from expgraph.domains.catalog.models import ExperimentTag, Tag
    from expgraph.domains.experiments.models import TrainingExperiment

    async with db.transaction() as session:
        tag = Tag(name="t", slug="t", usage_count=0)
        live = TrainingExperiment(name="live")
        gone = TrainingExperiment(name="gone", deleted_at=datetime.now(UTC))
        session.add_all([tag, live, gone])
        await session.flush()
        session.add_all([ExperimentTag(experiment_id=e.id, tag_id=tag.id) for e in (live, gone)])
        tag_id = tag.id

    async def usage() -> int:
        async with db.read() as session:
            return int(await session.scalar(select(Tag.usage_count).where(Tag.id == tag_id)))

    url = db.settings.database_url
    migrate.downgrade(url, "0007")
    assert await usage() == 2  # every link, as counted before 0008
    migrate.upgrade(url)
    assert await usage() == 1
