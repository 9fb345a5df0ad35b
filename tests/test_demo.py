"""The demo data set: every kind, exact tag counts, served through the API."""

from __future__ import annotations

from sqlalchemy import func, select

from expgraph.demo import load_demo
from expgraph.domains.catalog.models import ExperimentTag, Tag
from expgraph.domains.experiments.models import Experiment


async def test_demo_fills_every_kind_and_the_api_serves_it(settings, db, gql):
    counts = await load_demo(settings, seed=3, experiments=60, progress=False)
    assert counts["experiments"] == 60 and counts["users"] == 8 and counts["tags"] == 20
    assert counts["dataset_examples"] > 100 and counts["scenario_nodes"] > 3
    async with db.read() as session:
        kinds = set((await session.scalars(select(Experiment.kind))).all())
        assert len(kinds) == 5
        live = await session.scalar(
            select(func.count(Experiment.id)).where(Experiment.deleted_at.is_(None))
        )
        links = dict(
            (
                await session.execute(
                    select(ExperimentTag.tag_id, func.count())
                    .join(Experiment, Experiment.id == ExperimentTag.experiment_id)
                    .where(Experiment.deleted_at.is_(None))
                    .group_by(ExperimentTag.tag_id)
                )
            ).all()
        )
        for tag in (await session.scalars(select(Tag))).all():
            assert tag.usage_count == links.get(tag.id, 0)
    data = await gql.data("""{ experiments(first: 5) { totalCount edges { node { name kind
      ... on SimulationExperiment { masterSeed } } } } }""")
    assert data["experiments"]["totalCount"] == live
    # Twice is fine: a second run adds a second set.
    again = await load_demo(settings, seed=3, experiments=10, progress=False)
    assert again["experiments"] == 10
