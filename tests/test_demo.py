"""The demo data set: every kind, exact tag counts, served through the API, loaded
once unless appended, in English."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from expgraph.demo import DemoDataPresent, load_demo
from expgraph.domains.abtest import hashing
from expgraph.domains.abtest.models import Assignment
from expgraph.domains.catalog.models import DatasetExample, ExperimentTag, Tag
from expgraph.domains.experiments.models import AbTestExperiment, Experiment, ExperimentKind
from expgraph.domains.research.models import ScenarioNode
from expgraph.graphql.relay import decode_id, encode_id


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


AB_RESULTS = """query($id: ID!, $metric: String!) { node(id: $id) { ... on AbTestExperiment {
  name hashSeed variants { id name isControl allocation }
  results(metric: $metric) { srm { pValue flagged }
    variants { variant { name } isControl units mean pValue } } } } }"""
ASSIGN = """mutation($input: AssignUnitInput!) { assignUnit(input: $input) {
  assignment { unitId variant { id } } } }"""


async def test_demo_ab_tests_show_a_significant_and_a_flat_metric(settings, db, gql):
    counts = await load_demo(settings, seed=4, experiments=10, progress=False)
    assert counts["ab_tests"] == 2 and counts["events"] > 5000
    assert counts["metric_aggregates"] > 0
    async with db.read() as session:
        tests = (
            await session.scalars(
                select(AbTestExperiment).where(AbTestExperiment.hash_seed.is_not(None))
            )
        ).all()
        assert len(tests) == 2
        stored = {
            (a.experiment_id, a.unit_id): a.variant_id
            for a in (await session.scalars(select(Assignment))).all()
        }
    for test in tests:
        gid = encode_id("AbTestExperiment", test.id)
        conversion = (await gql.data(AB_RESULTS, {"id": gid, "metric": "conversion"}))["node"]
        revenue = (await gql.data(AB_RESULTS, {"id": gid, "metric": "revenue"}))["node"]
        for found in (conversion, revenue):
            assert not found["results"]["srm"]["flagged"], found
            assert found["results"]["variants"][0]["isControl"]
            assert sum(v["units"] for v in found["results"]["variants"]) > 2000
        for v in conversion["results"]["variants"][1:]:
            assert v["pValue"] < 0.01 and v["mean"] > conversion["results"]["variants"][0]["mean"]
        for v in revenue["results"]["variants"][1:]:
            assert v["pValue"] > 0.05, revenue
        # The stored assignments are what assignUnit gives (and what the hash gives).
        allocations = [Decimal(v["allocation"]) for v in conversion["variants"]]
        for unit in ("user-00000", "user-00001", "user-00002", "user-02999"):
            data = await gql.data(
                ASSIGN, {"input": {"experimentId": gid, "unitType": "USER", "unitId": unit}}
            )
            assignment = data["assignUnit"]["assignment"]
            index = hashing.assign_variant(conversion["hashSeed"], unit, allocations)
            if index is None:
                assert assignment is None and (test.id, unit) not in stored
                continue
            assert assignment["variant"]["id"] == conversion["variants"][index]["id"]
            assert stored[(test.id, unit)] == decode_id(assignment["variant"]["id"])[1]
    # The aggregates feed the experimentMetrics view.
    data = await gql.data("""{ experimentMetrics(first: 100, filter: {metricName: "conversion"})
      { totalCount } }""")
    assert data["experimentMetrics"]["totalCount"] > 0


TRAINING = """{
  hpoCampaigns(first: 10) { edges { node { name method status
    bestValue bestTrial { value state experiment { name status } }
    progress { completed pruned failed }
    trials(first: 20) { totalCount edges { node { state value
      intermediateValues { epoch value } } } } } } }
  nasCampaigns(first: 10) { edges { node { name status numTrials bestAccuracy
    bestTrial { id } paretoFront { id validationAccuracy flops }
    trials(first: 20) { totalCount } } } }
  experiments(first: 50, filter: {kinds: [TRAINING], nameContains: "with curves"}) {
    totalCount edges { node { ... on TrainingExperiment { name totalEpochs bestEpoch
      learningCurve(metrics: [VAL_LOSS, VAL_ACCURACY]) { metric points { epoch value } }
    } } } }
}"""


async def test_demo_training_campaigns_and_curves_are_finished(settings, gql):
    counts = await load_demo(settings, seed=6, experiments=10, progress=False, ab_units=300)
    assert counts["hpo_campaigns"] == 2 and counts["nas_campaigns"] == 1
    data = await gql.data(TRAINING)
    campaigns = {c["node"]["method"]: c["node"] for c in data["hpoCampaigns"]["edges"]}
    assert set(campaigns) == {"BAYESIAN", "HYPERBAND"}
    for campaign in campaigns.values():
        # Finished by itself when its 12 trials ended, the best one named.
        assert campaign["status"] == "COMPLETED", campaign
        assert campaign["trials"]["totalCount"] == 12
        assert campaign["progress"]["completed"] + campaign["progress"]["pruned"] == 12
        best = campaign["bestTrial"]
        assert best["state"] == "COMPLETED" and best["experiment"]["status"] == "COMPLETED"
        assert (
            best["value"]
            == campaign["bestValue"]
            == campaign["trials"]["edges"][0]["node"]["value"]
        )
        assert all(t["node"]["intermediateValues"] for t in campaign["trials"]["edges"])
    # Hyperband stopped some trials early: fewer intermediate values than epochs.
    hyperband = campaigns["HYPERBAND"]
    assert hyperband["progress"]["pruned"] > 0
    pruned = [t["node"] for t in hyperband["trials"]["edges"] if t["node"]["state"] == "PRUNED"]
    assert all(len(t["intermediateValues"]) < 9 for t in pruned)
    [nas] = [c["node"] for c in data["nasCampaigns"]["edges"]]
    assert nas["status"] == "COMPLETED" and nas["trials"]["totalCount"] == nas["numTrials"] == 10
    assert nas["bestTrial"] is not None and nas["paretoFront"]
    assert nas["bestTrial"]["id"] in {t["id"] for t in nas["paretoFront"]}  # the most accurate
    curves = [e["node"] for e in data["experiments"]["edges"]]
    assert data["experiments"]["totalCount"] == len(curves) == 4
    for experiment in curves:
        assert experiment["totalEpochs"] == 20 and experiment["bestEpoch"] is not None
        loss, accuracy = experiment["learningCurve"]
        assert loss["metric"] == "VAL_LOSS" and accuracy["metric"] == "VAL_ACCURACY"
        assert [p["epoch"] for p in loss["points"]] == list(range(20))
        assert loss["points"][-1]["value"] < loss["points"][0]["value"]  # it learned
