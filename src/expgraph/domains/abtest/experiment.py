"""``AbTestExperiment``: the A/B-test kind of experiment."""

from __future__ import annotations

from datetime import datetime

import strawberry

from expgraph.domains.experiments import models as experiments
from expgraph.domains.experiments.types import EXPERIMENT_RENAMES, Experiment, UnitType
from expgraph.graphql.relay import node_type
from expgraph.graphql.visibility import Public


@node_type(experiments.AbTestExperiment, read=Public, renames=EXPERIMENT_RENAMES)
@strawberry.type(description="An A/B test assigning units to variants.")
class AbTestExperiment(Experiment):
    unit_type: UnitType | None = strawberry.field(
        description="What is assigned to variants; null until set."
    )
    start_at: datetime | None = strawberry.field(
        description="When assignment starts (UTC); null until scheduled."
    )
    end_at: datetime | None = strawberry.field(
        description="When assignment ends (UTC); null while open-ended."
    )
