"""Full-text search over experiments: ``ExperimentFilter.search`` and RELEVANCE
ordering, on both databases (tsvector + GIN on PostgreSQL, FTS5 on SQLite)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.helpers import create_experiment, create_tag, tag_experiment

SEARCH = """
query($filter: ExperimentFilter, $orderBy: [ExperimentOrder!], $first: Int, $after: String) {
  experiments(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    edges { cursor node { id name } }
    pageInfo { hasNextPage endCursor }
  }
}"""
BY_RELEVANCE = [{"field": "RELEVANCE", "direction": "DESC"}]


async def names(gql, filter, order_by=None, first=None):
    data = await gql.data(SEARCH, {"filter": filter, "orderBy": order_by, "first": first})
    return [e["node"]["name"] for e in data["experiments"]["edges"]]


async def test_a_name_match_ranks_above_a_description_and_a_notes_match(gql):
    await create_experiment(gql, "plain", training={"notes": "a quokka was seen"})
    await create_experiment(gql, "quokka study")
    await create_experiment(gql, "other", description="about the quokka")
    await create_experiment(gql, "unrelated", description="nothing here")
    found = await names(gql, {"search": "Quokka"}, BY_RELEVANCE)
    assert found == ["quokka study", "other", "plain"]
    # Without RELEVANCE: the default order (newest first), same rows.
    assert sorted(await names(gql, {"search": "quokka"})) == sorted(found)


async def test_every_word_must_match_and_hypothesis_is_searched(gql):
    await create_experiment(
        gql, "r1", kind="RESEARCH", research={"hypothesis": "Cheaper shipping lifts retention"}
    )
    await create_experiment(gql, "r2", kind="RESEARCH", research={"hypothesis": "Shipping"})
    assert await names(gql, {"search": "shipping retention"}) == ["r1"]
    assert sorted(await names(gql, {"search": "shipping"})) == ["r1", "r2"]


async def test_search_combines_with_other_filters(gql):
    await create_experiment(gql, "falcon one", kind="TRAINING")
    await create_experiment(gql, "falcon two", kind="RESEARCH")
    await create_experiment(gql, "eagle", kind="RESEARCH")
    assert await names(gql, {"search": "falcon", "kinds": ["RESEARCH"]}) == ["falcon two"]
    either = {"or": [{"search": "eagle"}, {"nameContains": "one"}]}
    assert sorted(await names(gql, either)) == ["eagle", "falcon one"]
    assert await names(gql, {"search": "falcon", "not": {"search": "two"}}) == ["falcon one"]


async def test_tag_names_are_searched_and_follow_tag_changes(gql):
    exp = await create_experiment(gql, "tagged")
    tag = await create_tag(gql, "Marsupial")
    assert await names(gql, {"search": "marsupial"}) == []
    await tag_experiment(gql, exp["id"], tag["id"])
    assert await names(gql, {"search": "marsupial"}) == ["tagged"]
    await gql.data(
        'mutation($i: ID!) { updateTag(input: {id: $i, name: "Wombat"}) { tag { name } } }',
        {"i": tag["id"]},
    )
    assert await names(gql, {"search": "marsupial"}) == []
    assert await names(gql, {"search": "wombat"}) == ["tagged"]
    await gql.data(
        "mutation($e: ID!, $t: ID!) { untagExperiment(input: {experimentId: $e, tagId: $t})"
        " { changed } }",
        {"e": exp["id"], "t": tag["id"]},
    )
    assert await names(gql, {"search": "wombat"}) == []


async def test_an_updated_experiment_is_found_by_its_new_words(gql):
    exp = await create_experiment(gql, "old title", description="first words")
    await gql.data(
        "mutation($i: UpdateExperimentInput!) { updateExperiment(input: $i) { experiment { id } } }",
        {"i": {"id": exp["id"], "name": "new heading", "training": {"notes": "pangolin"}}},
    )
    assert await names(gql, {"search": "title"}) == []
    assert await names(gql, {"search": "heading"}) == ["new heading"]
    assert await names(gql, {"search": "pangolin"}) == ["new heading"]
    assert await names(gql, {"search": "first"}) == ["new heading"]


@pytest.mark.parametrize(
    "term",
    ['"', "NEAR(", "*", "a*", "foo OR", "-", "(", ")", "name:foo", "^x", "AND", "'", "\\", "  "],
)
async def test_search_syntax_never_errors(gql, term):
    await create_experiment(gql, "foo bar")
    data = await gql.post(SEARCH, {"filter": {"search": term}, "orderBy": BY_RELEVANCE})
    assert "errors" not in data, data


async def test_operators_are_plain_words_and_punctuation_only_matches_nothing(gql):
    await create_experiment(gql, "near the river")
    await create_experiment(gql, "foo bar")
    assert await names(gql, {"search": "NEAR(river"}) == ["near the river"]
    assert await names(gql, {"search": '"foo'}) == ["foo bar"]
    assert await names(gql, {"search": "***"}) == []


async def test_nul_and_overlong_search_are_bad_requests(gql):
    for term in ["a\x00b", "x" * 1001]:
        assert await gql.error_code(SEARCH, {"filter": {"search": term}}) == "BAD_REQUEST"


async def test_relevance_needs_a_search(gql):
    await create_experiment(gql, "x")
    assert await gql.error_code(SEARCH, {"orderBy": BY_RELEVANCE}) == "BAD_REQUEST"
    assert (
        await gql.error_code(SEARCH, {"filter": {"kinds": ["TRAINING"]}, "orderBy": BY_RELEVANCE})
        == "BAD_REQUEST"
    )


async def test_keyset_pages_by_relevance_visit_every_match_once(gql):
    # Ties in rank (same texts) and distinct ranks (name vs notes matches).
    for i in range(7):
        await create_experiment(gql, f"otter {i}")
    for i in range(6):
        await create_experiment(gql, f"seal {i}", training={"notes": "otter nearby"})
    await create_experiment(gql, "nothing")
    expected = await names(gql, {"search": "otter"}, BY_RELEVANCE, first=100)
    assert len(expected) == 13 and all(n.startswith("otter") for n in expected[:7])
    seen, after = [], None
    while True:
        data = await gql.data(
            SEARCH,
            {"filter": {"search": "otter"}, "orderBy": BY_RELEVANCE, "first": 4, "after": after},
        )
        page = data["experiments"]
        seen += [e["node"]["name"] for e in page["edges"]]
        assert page["totalCount"] == 13
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected
    # Backward from the end gives the same order.
    data = await gql.data(
        "query($f: ExperimentFilter, $o: [ExperimentOrder!]) { experiments(filter: $f, "
        "orderBy: $o, last: 5) { edges { node { name } } } }",
        {"f": {"search": "otter"}, "o": BY_RELEVANCE},
    )
    assert [e["node"]["name"] for e in data["experiments"]["edges"]] == expected[-5:]


async def test_the_list_query_with_a_search_term_is_index_driven(gql, db, dialect):
    """EXPLAIN of the experiments list query (live rows, a search term, newest
    first, one page) is index-driven: on PostgreSQL it reads the GIN index
    ix_experiments_search_vector. Checked with enough rows, not by disabling
    sequential scans: 20,000 experiments are inserted with one INSERT ...
    SELECT (the trigger writes their vectors) and VACUUM ANALYZEd, and the plan is the
    planner's own choice. On SQLite the FTS5 table answers the match (a
    full-text index lookup)."""
    from sqlalchemy import select

    from expgraph.domains.experiments.models import Experiment as E
    from expgraph.domains.experiments.types import EXPERIMENT_RULES

    for i in range(3):
        await create_experiment(gql, f"heron {i}")
    async with db.engine.begin() as connection:
        if dialect == "postgresql":
            await connection.execute(
                text(
                    "INSERT INTO experiments (kind, name, status, config, metadata, "
                    "created_at, updated_at) SELECT 'training', 'bulk gull ' || g, 'draft', "
                    "'{}', '{}', now(), now() FROM generate_series(1, 20000) g"
                )
            )
    if dialect == "postgresql":
        # VACUUM moves the GIN index's pending list into the index proper.
        async with db.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE experiments"))
    stmt = (
        select(E)
        .where(E.deleted_at.is_(None), EXPERIMENT_RULES["search"]("heron"))
        .order_by(E.created_at.desc(), E.id.desc())
        .limit(51)
    )
    async with db.engine.connect() as connection:
        compiled = stmt.compile(connection.sync_engine, compile_kwargs={"literal_binds": True})
        if dialect == "postgresql":
            rows = await connection.execute(text(f"EXPLAIN {compiled}"))
            plan = "\n".join(row[0] for row in rows)
            assert "ix_experiments_search_vector" in plan, plan
            assert "Seq Scan" not in plan, plan
        else:
            rows = await connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            plan = "\n".join(str(row[-1]) for row in rows)
            assert "VIRTUAL TABLE INDEX" in plan, plan
        found = (await connection.execute(stmt)).all()
    assert len(found) == 3


async def test_a_tagged_experiment_can_be_deleted_for_good(gql, db):
    """The tag triggers refresh the experiment's document; when the experiment
    itself is deleted (its tag links go by cascade) they find nothing to refresh,
    and its search row goes with it."""
    from sqlalchemy import delete, select

    from expgraph.domains.catalog.models import ExperimentTag
    from expgraph.domains.experiments.models import Experiment as E
    from expgraph.graphql.relay import decode_id

    exp = await create_experiment(gql, "ibis gone")
    await create_experiment(gql, "ibis stays")
    tag = await create_tag(gql, "wader")
    await tag_experiment(gql, exp["id"], tag["id"])
    pk = decode_id(exp["id"])[1]
    async with db.transaction() as session:
        # ON DELETE CASCADE takes its tag links (their trigger runs for them).
        await session.execute(delete(E).where(E.id == pk))
        links = await session.scalars(
            select(ExperimentTag.id).where(ExperimentTag.experiment_id == pk)
        )
        assert links.all() == []
    assert await names(gql, {"search": "ibis"}) == ["ibis stays"]
    assert await names(gql, {"search": "wader"}) == []
