"""Explanations of a TRAINING experiment's model (seed 003 ``explanations``):
created in batches (``createExplanations``, one INSERT), listed per experiment
(``TrainingExperiment.explanations``).

An explanation names the signal it explains by the signal's ``signal_id`` (a
string, as in the seed); ``Explanation.signal`` resolves it to the signal of that
name in the experiment's dataset, when there is one (the lowest id when the
dataset holds several of that name), through one loader statement for a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.engine import Database
from expgraph.db.values import check_rows
from expgraph.domains.catalog.models import Signal as SignalRecord
from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.experiments.models import ExperimentKind
from expgraph.domains.training import models
from expgraph.errors import BadRequest, NotFound
from expgraph.graphql.auth import Permission
from expgraph.graphql.bounds import capped
from expgraph.graphql.context import Info
from expgraph.graphql.loaders import Relation, RowsById
from expgraph.graphql.permissions import mutation
from expgraph.graphql.prefetch import node_field
from expgraph.graphql.relay import Node, model_pk, node_type, to_node
from expgraph.graphql.scalars import JSON
from expgraph.graphql.visibility import Public, node_for

if TYPE_CHECKING:
    from expgraph.domains.catalog.types import Signal
    from expgraph.domains.experiments.types import Experiment

ExperimentT = Annotated["Experiment", strawberry.lazy("expgraph.domains.experiments.types")]
SignalT = Annotated["Signal", strawberry.lazy("expgraph.domains.catalog.types")]

MAX_EXPLANATIONS = 500
METHOD_MAX, SIGNAL_ID_MAX, FILE_PATH_MAX = 50, 255, 500
EXPLANATIONS = Relation(models.Explanation, "experiment_id")


@dataclass(frozen=True)
class SignalsByName:
    """The signal each (experiment id, signal name) names in the experiment's
    dataset (None when there is none): one statement per batch."""

    async def load(self, db: Database, keys: list[tuple[int, str]]) -> list[Any]:
        experiment_ids = sorted({key[0] for key in keys})
        names = sorted({key[1] for key in keys})
        statement = (
            select(ExperimentRecord.id, SignalRecord)
            .join(SignalRecord, SignalRecord.dataset_id == ExperimentRecord.dataset_id)
            .where(ExperimentRecord.id.in_(experiment_ids), SignalRecord.signal_id.in_(names))
            .order_by(SignalRecord.id.desc())  # the lowest id wins below
        )
        async with db.read() as session:
            rows = (await session.execute(statement)).all()
        found = {(experiment_id, signal.signal_id): signal for experiment_id, signal in rows}
        return [found.get(key) for key in keys]


SIGNALS_BY_NAME = SignalsByName()


@node_type(models.Explanation, read=Public, renames={"data": "explanation_data"})
@strawberry.type(
    description=(
        "An explanation of a training experiment's model (saliency, SHAP values, ...) on one "
        "signal, as its explainer produced it."
    )
)
class Explanation(Node):
    id: strawberry.ID = strawberry.field(description="Global ID.")
    method: str = strawberry.field(
        description="The explanation method, as given (e.g. shap, lime, integrated_gradients)."
    )
    signal_id: str | None = strawberry.field(
        description="The name (signalId) of the signal it explains, as given; null when none."
    )
    data: JSON = strawberry.field(description="The explanation itself, a JSON object.")
    file_path: str | None = strawberry.field(
        description="Where a rendering or the full data is stored; null when none."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it was last changed.")
    record: strawberry.Private[models.Explanation]
    experiment: ExperimentT = node_field(
        RowsById(ExperimentRecord),
        "experiment_id",
        ExperimentT,
        nullable=False,
        description="The experiment whose model it explains.",
    )

    @strawberry.field(
        description=(
            "The signal named by signalId in the experiment's dataset; null when signalId is "
            "null, when the experiment has no dataset or when its dataset has no signal of "
            "that name (the oldest one when it has several)."
        )
    )
    async def signal(self, info: Info) -> SignalT | None:
        name = self.record.signal_id
        if name is None:
            return None
        key = (self.record.experiment_id, name)
        row = await info.context.loader(SIGNALS_BY_NAME).load(key)
        found: Any = node_for(info.context.principal, row)
        return found


@strawberry.input(description="One explanation to store.")
class ExplanationInput:
    method: str = strawberry.field(
        description="The explanation method (e.g. shap, lime), 1 to 50 characters."
    )
    signal_id: str | None = strawberry.field(
        default=None,
        description=(
            "The name (Signal.signalId) of the signal explained, at most 255 characters; it "
            "need not exist (Explanation.signal is then null)."
        ),
    )
    data: JSON = strawberry.field(description="The explanation, a JSON object.")
    file_path: str | None = strawberry.field(
        default=None,
        description="Where a rendering or the full data is stored, at most 500 characters.",
    )


@strawberry.input(description="Explanations of one TRAINING experiment, stored all or none.")
class CreateExplanationsInput:
    experiment_id: strawberry.ID = strawberry.field(description="The TRAINING experiment.")
    explanations: list[ExplanationInput] = capped(
        MAX_EXPLANATIONS, description="The explanations, 1 to 500."
    )


@strawberry.type(description="The result of createExplanations.")
class CreateExplanationsPayload:
    explanations: list[Explanation] = strawberry.field(
        description="The stored explanations, in input order."
    )


def _row(experiment_id: int, i: int, given: ExplanationInput) -> dict[str, Any]:
    where = f"explanations[{i}]"
    if not isinstance(given.data, dict):
        raise BadRequest(f"{where}.data must be a JSON object", field="explanations")
    return {
        "experiment_id": experiment_id,
        "method": _text(given.method, f"{where}.method", METHOD_MAX),
        "signal_id": _optional(given.signal_id, f"{where}.signalId", SIGNAL_ID_MAX),
        "explanation_data": given.data,
        "file_path": _optional(given.file_path, f"{where}.filePath", FILE_PATH_MAX),
    }


def _text(value: str, where: str, max_length: int) -> str:
    stripped = value.strip()
    if "\x00" in value or not 1 <= len(stripped) <= max_length:
        raise BadRequest(
            f"{where} must be 1 to {max_length} characters without NUL", field="explanations"
        )
    return stripped


def _optional(value: str | None, where: str, max_length: int) -> str | None:
    if value is None or not value.strip():
        return None
    return _text(value, where, max_length)


async def create_explanations(
    session: AsyncSession,
    experiment_id: int,
    explanations: list[ExplanationInput],
) -> list[models.Explanation]:
    """Store explanations of a live TRAINING experiment in one INSERT; the stored
    rows in input order."""
    if not explanations:
        raise BadRequest("explanations must not be empty", field="explanations")
    if len(explanations) > MAX_EXPLANATIONS:
        raise BadRequest(f"at most {MAX_EXPLANATIONS} explanations per call", field="explanations")
    rows = [_row(experiment_id, i, given) for i, given in enumerate(explanations)]
    check_rows(models.Explanation, rows)
    experiment = await session.get(ExperimentRecord, experiment_id)
    if experiment is None or experiment.deleted_at is not None:
        raise NotFound("no experiment with that id", field="experimentId")
    if experiment.kind is not ExperimentKind.TRAINING:
        raise BadRequest(
            "explanations are stored only for TRAINING experiments", field="experimentId"
        )
    statement = insert(models.Explanation).returning(
        models.Explanation, sort_by_parameter_order=True
    )
    return list((await session.scalars(statement, rows)).all())


@strawberry.type
class Mutation:
    @mutation(
        permission=Permission.EXECUTE,
        description=(
            "Store up to 500 explanations of a TRAINING experiment's model in one call, all or "
            "none (more, an empty list or another kind of experiment is a BAD_REQUEST; an "
            "unknown or deleted experiment is NOT_FOUND). Like logTrainingEpochs, it records "
            "what a worker computed: it needs the EXECUTE permission."
        ),
    )
    async def create_explanations(
        self, info: Info, input: CreateExplanationsInput
    ) -> CreateExplanationsPayload:
        experiment_id = model_pk(input.experiment_id, ExperimentRecord)
        async with info.context.db.transaction() as session:
            rows = await create_explanations(session, experiment_id, input.explanations)
        return CreateExplanationsPayload(explanations=[to_node(r) for r in rows])
