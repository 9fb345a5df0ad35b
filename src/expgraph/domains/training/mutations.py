"""Training mutations."""

from __future__ import annotations

import strawberry

from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.training import service
from expgraph.domains.training.inputs import LogTrainingEpochsInput
from expgraph.domains.training.types import TrainingRun
from expgraph.graphql.auth import Permission
from expgraph.graphql.context import Info
from expgraph.graphql.inputs import values_given
from expgraph.graphql.permissions import mutation
from expgraph.graphql.relay import model_pk, to_node


@strawberry.type(description="The result of logTrainingEpochs.")
class LogTrainingEpochsPayload:
    training_runs: list[TrainingRun] = strawberry.field(
        description="The epochs just logged as now stored, by epoch number."
    )


@strawberry.type
class Mutation:
    @mutation(
        permission=Permission.EXECUTE,
        description=(
            "Log up to 1,000 epochs of a TRAINING experiment in one call (more is a "
            "BAD_REQUEST; another kind of experiment is a BAD_REQUEST). Resending an epoch "
            "replaces its values. A trial of an HPO campaign needs the fencingToken of its "
            "claim; an experiment outside a campaign takes none (CONFLICT otherwise)."
        ),
    )
    async def log_training_epochs(
        self, info: Info, input: LogTrainingEpochsInput
    ) -> LogTrainingEpochsPayload:
        experiment_id = model_pk(input.experiment_id, ExperimentRecord)
        token = None if input.fencing_token is None else int(input.fencing_token)
        epochs = [values_given(e) for e in input.epochs]
        async with info.context.db.transaction() as session:
            rows = await service.log_epochs(
                session, info.context.db.dialect, experiment_id, token, epochs
            )
        return LogTrainingEpochsPayload(training_runs=[to_node(r) for r in rows])
