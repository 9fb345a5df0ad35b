"""The demo data set: every kind, exact tag counts, served through the API, loaded
once unless appended, in English."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from expgraph.demo import DemoDataPresent, load_demo
from expgraph.domains.catalog.models import DatasetExample, ExperimentTag, Tag
from expgraph.domains.experiments.models import Experiment, ExperimentKind
from expgraph.domains.research.models import ScenarioNode


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
    # A second run refuses (it would double the data) unless asked to append.
    with pytest.raises(DemoDataPresent, match="--append"):
        await load_demo(settings, seed=3, experiments=10, progress=False)
    again = await load_demo(settings, seed=3, experiments=10, progress=False, append=True)
    assert again["experiments"] == 10
    assert (await gql.data("{ experiments { totalCount } }"))["experiments"]["totalCount"] > live


async def test_demo_texts_read_as_english(settings, db):
    await load_demo(settings, seed=5, experiments=10, progress=False)
    async with db.read() as session:
        experiments = (await session.scalars(select(Experiment))).all()
        questions = (await session.scalars(select(DatasetExample.input))).all()
        actions = (await session.scalars(select(ScenarioNode.short_action))).all()
    texts = [e.description for e in experiments] + [q["question"] for q in questions] + actions
    texts += [e.hypothesis for e in experiments if e.kind is ExperimentKind.RESEARCH]
    for text in texts:
        assert "_" not in text, text  # no enum values (ab_test) in prose
        assert not re.search(r"\ba [aeiou]", text, re.I), (
            text
        )  # "an evaluation", not "a evaluation"
        assert "How do I fast" not in text and "tweak" not in text, text
    assert any(re.fullmatch(r"An? \w+ evaluation of \w+\.", t) for t in texts), texts
    assert any("A/B test" in t for t in texts)
