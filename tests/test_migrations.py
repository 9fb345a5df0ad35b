"""Migrations: up from empty and back down, and no drift between models and database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from expgraph.db import migrate
from expgraph.models import Base


def _diff(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


def _tables(connection):
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


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
