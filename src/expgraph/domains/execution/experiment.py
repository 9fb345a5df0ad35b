"""``EvaluationExperiment``: the LLM-evaluation kind of experiment (runs over a
dataset version), and the check of its dataset references on every write."""

from __future__ import annotations

import strawberry

from expgraph.domains.catalog.fields import dataset_field, dataset_version_field
from expgraph.domains.catalog.service import check_dataset_references
from expgraph.domains.execution import fields
from expgraph.domains.experiments import hooks
from expgraph.domains.experiments import models as experiments
from expgraph.domains.experiments.types import EXPERIMENT_RENAMES, Experiment
from expgraph.graphql.relay import node_type
from expgraph.graphql.visibility import Public

hooks.check_kind(experiments.ExperimentKind.EVALUATION, check_dataset_references)


@node_type(experiments.EvaluationExperiment, read=Public, renames=EXPERIMENT_RENAMES)
@strawberry.type(description="An LLM evaluation over a dataset version.")
class EvaluationExperiment(Experiment):
    repetitions: int | None = strawberry.field(
        description="How many times each dataset example runs; null means once."
    )
    dataset = dataset_field("The dataset it runs on.")
    dataset_version = dataset_version_field("The dataset version whose examples it runs.")
    runs = fields.runs
    progress = fields.progress
    incomplete_runs = strawberry.field(
        resolver=fields.incomplete_runs,
        description="Missing and failed example x repetition pairs, in order, paged.",
    )
    annotation_summaries = strawberry.field(
        resolver=fields.annotation_summaries,
        description="Per evaluator: count, errors, mean score, label counts.",
    )
