"""GraphQL types for research entities (analysis runs first; more to come)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from expgraph.domains.research import models
from expgraph.graphql.relay import Node, node_type
from expgraph.graphql.scalars import JSON

AnalysisStatus = models.AnalysisStatus
strawberry.enum(AnalysisStatus, description="Where an analysis run stands.")


@node_type(models.AnalysisRun)
@strawberry.type(description="The analysis of a research experiment (at most one).")
class AnalysisRun(Node):
    id: strawberry.ID
    scenario_id: str
    config: JSON
    status: AnalysisStatus
    started_at: datetime
    completed_at: datetime | None
    total_synths: int
    aggregated_outcomes: JSON | None
    execution_time_seconds: float | None
    record: strawberry.Private[models.AnalysisRun]
