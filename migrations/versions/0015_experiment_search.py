"""Full-text search over experiments (issue 17), kept current by triggers

The search document of an experiment is its name (weight A), description and
hypothesis (B), notes and the names of its tags (C). Triggers keep it current
on every write, whoever writes: the experiment's own columns, a tag put on or
taken off it (experiment_tags), a tag renamed (tags.name).

PostgreSQL: experiments.search_vector (tsvector, 'simple' configuration) is
set by a BEFORE trigger; a GIN index (ix_experiments_search_vector) answers
``@@``. Setting search_vector to anything (NULL) recomputes it: the tag
triggers do that. Existing rows are recomputed here.
SQLite: an FTS5 table experiments_fts(name, description, notes, hypothesis,
tags) whose rowid is the experiment's id, with its own copy of the texts
(deleting a row needs no old values); filled here from existing rows. The
search_vector column is not used on SQLite. Neither the FTS5 table nor the GIN
index is in the models' metadata (db/search.py SEARCH_OBJECTS lists them for
the drift comparison).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 14:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TAG_NAMES = (
    "(SELECT {agg} FROM experiment_tags et JOIN tags t ON t.id = et.tag_id "
    "WHERE et.experiment_id = {id})"
)

POSTGRESQL_UP = [
    f"""
    CREATE FUNCTION experiments_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_vector :=
            setweight(to_tsvector('simple', coalesce(NEW.name, '')), 'A')
            || setweight(to_tsvector('simple',
                   coalesce(NEW.description, '') || ' ' || coalesce(NEW.hypothesis, '')), 'B')
            || setweight(to_tsvector('simple',
                   coalesce(NEW.notes, '') || ' ' || coalesce(
                       {TAG_NAMES.format(agg="string_agg(t.name, ' ')", id="NEW.id")}, '')), 'C');
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER experiments_search
    BEFORE INSERT OR UPDATE OF name, description, notes, hypothesis, search_vector
    ON experiments FOR EACH ROW EXECUTE FUNCTION experiments_search_refresh()
    """,
    """
    CREATE FUNCTION experiment_tags_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE experiments SET search_vector = NULL WHERE id = NEW.experiment_id;
        ELSE
            UPDATE experiments SET search_vector = NULL WHERE id = OLD.experiment_id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER experiment_tags_search AFTER INSERT OR DELETE ON experiment_tags
    FOR EACH ROW EXECUTE FUNCTION experiment_tags_search_refresh()
    """,
    """
    CREATE FUNCTION tags_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE experiments SET search_vector = NULL
        WHERE id IN (SELECT experiment_id FROM experiment_tags WHERE tag_id = NEW.id);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER tags_search AFTER UPDATE OF name ON tags FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION tags_search_refresh()
    """,
    "UPDATE experiments SET search_vector = NULL",
    "CREATE INDEX ix_experiments_search_vector ON experiments USING gin (search_vector)",
]
POSTGRESQL_DOWN = [
    "DROP INDEX ix_experiments_search_vector",
    "DROP TRIGGER tags_search ON tags",
    "DROP FUNCTION tags_search_refresh()",
    "DROP TRIGGER experiment_tags_search ON experiment_tags",
    "DROP FUNCTION experiment_tags_search_refresh()",
    "DROP TRIGGER experiments_search ON experiments",
    "DROP FUNCTION experiments_search_refresh()",
]

SQLITE_ROW = (
    "INSERT INTO experiments_fts(rowid, name, description, notes, hypothesis, tags) "
    "VALUES (NEW.id, NEW.name, NEW.description, NEW.notes, NEW.hypothesis, "
    + TAG_NAMES.format(agg="group_concat(t.name, ' ')", id="NEW.id")
    + ");"
)
# Touching search_vector fires experiments_fts_update: the tag triggers do that.
SQLITE_UP = [
    "CREATE VIRTUAL TABLE experiments_fts USING fts5(name, description, notes, hypothesis, tags)",
    f"CREATE TRIGGER experiments_fts_insert AFTER INSERT ON experiments BEGIN {SQLITE_ROW} END",
    "CREATE TRIGGER experiments_fts_update AFTER UPDATE OF name, description, notes, "
    "hypothesis, search_vector ON experiments BEGIN "
    f"DELETE FROM experiments_fts WHERE rowid = OLD.id; {SQLITE_ROW} END",
    "CREATE TRIGGER experiments_fts_delete AFTER DELETE ON experiments BEGIN "
    "DELETE FROM experiments_fts WHERE rowid = OLD.id; END",
    "CREATE TRIGGER experiment_tags_fts_insert AFTER INSERT ON experiment_tags BEGIN "
    "UPDATE experiments SET search_vector = NULL WHERE id = NEW.experiment_id; END",
    "CREATE TRIGGER experiment_tags_fts_delete AFTER DELETE ON experiment_tags BEGIN "
    "UPDATE experiments SET search_vector = NULL WHERE id = OLD.experiment_id; END",
    "CREATE TRIGGER tags_fts_rename AFTER UPDATE OF name ON tags "
    "WHEN OLD.name IS NOT NEW.name BEGIN "
    "UPDATE experiments SET search_vector = NULL WHERE id IN "
    "(SELECT experiment_id FROM experiment_tags WHERE tag_id = NEW.id); END",
    "INSERT INTO experiments_fts(rowid, name, description, notes, hypothesis, tags) "
    "SELECT e.id, e.name, e.description, e.notes, e.hypothesis, "
    + TAG_NAMES.format(agg="group_concat(t.name, ' ')", id="e.id")
    + " FROM experiments e",
]
SQLITE_DOWN = [
    "DROP TRIGGER tags_fts_rename",
    "DROP TRIGGER experiment_tags_fts_delete",
    "DROP TRIGGER experiment_tags_fts_insert",
    "DROP TRIGGER experiments_fts_delete",
    "DROP TRIGGER experiments_fts_update",
    "DROP TRIGGER experiments_fts_insert",
    "DROP TABLE experiments_fts",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    _run(POSTGRESQL_UP if postgresql else SQLITE_UP)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    _run(POSTGRESQL_DOWN if postgresql else SQLITE_DOWN)
