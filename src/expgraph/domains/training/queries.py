"""Training queries: learning curves of several experiments side by side."""

from __future__ import annotations

from typing import Annotated

import strawberry

from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.experiments.models import ExperimentKind
from expgraph.domains.training.experiment import TrainingExperiment
from expgraph.domains.training.service import MAX_COMPARED, TrainingMetric
from expgraph.domains.training.types import RUNS, LearningCurve, curve
from expgraph.errors import BadRequest, NotFound
from expgraph.graphql.bounds import capped_argument
from expgraph.graphql.connections import load_nodes
from expgraph.graphql.context import Info
from expgraph.graphql.permissions import query_field
from expgraph.graphql.relay import model_pk


@strawberry.type(description="One experiment's curve in a comparison.")
class ComparedCurve:
    experiment: TrainingExperiment = strawberry.field(description="The experiment.")
    curve: LearningCurve = strawberry.field(description="Its curve of the compared metric.")


@strawberry.type
class Query:
    @query_field(
        description=(
            "The learning curves of one metric for up to 20 TRAINING experiments, side by side "
            "in the order of ids (an id given twice is shown once). An id that is no readable "
            "TRAINING experiment is a NOT_FOUND error."
        )
    )
    async def compare_training_experiments(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            capped_argument(MAX_COMPARED, description="The TRAINING experiments, 1 to 20."),
        ],
        metric: Annotated[TrainingMetric, strawberry.argument(description="The metric compared.")],
    ) -> list[ComparedCurve]:
        if not ids:
            raise BadRequest("ids must not be empty", field="ids")
        pks = list(dict.fromkeys(model_pk(i, ExperimentRecord) for i in ids))
        nodes = await load_nodes(info, ExperimentRecord, pks)
        for i, node in enumerate(nodes):
            if node is None or node.record.kind is not ExperimentKind.TRAINING:
                raise NotFound(f"ids[{i}] is no TRAINING experiment", field="ids")
        runs = await info.context.loader(RUNS).load_many(pks)
        return [
            ComparedCurve(experiment=node, curve=curve(rows, metric))
            for node, rows in zip(nodes, runs, strict=True)
        ]
