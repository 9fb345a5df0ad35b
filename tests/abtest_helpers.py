"""Builders for A/B tests in tests: experiments, variants and events through the
public API (createExperiment, createVariant, updateExperiment, recordEvents)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.conftest import GraphQLClient
from tests.helpers import create_experiment

CREATE_VARIANT = """mutation($input: CreateVariantInput!) {
  createVariant(input: $input) { variant { id allocation position } } }"""
UPDATE_VARIANT = """mutation($input: UpdateVariantInput!) {
  updateVariant(input: $input) { variant { id allocation } } }"""
SET_STATUS = """mutation($id: ID!, $status: ExperimentStatus!) {
  updateExperiment(input: {id: $id, status: $status}) { experiment { status } } }"""
ASSIGN = """mutation($input: AssignUnitInput!) { assignUnit(input: $input) {
  assignment { id unitId unitType assignedAt variant { id } experiment { id } } } }"""
ASSIGN_MANY = """mutation($input: AssignUnitsInput!) { assignUnits(input: $input) {
  assignments { id unitId variant { id } experiment { id } } } }"""
RECORD = """mutation($input: RecordEventsInput!) {
  recordEvents(input: $input) { accepted duplicates } }"""


@dataclass
class AbTest:
    id: str
    name: str
    variants: list[str]
    allocations: list[str]


async def ab_test(
    gql: GraphQLClient,
    name: str,
    allocations: tuple[str, ...] = ("0.5", "0.5"),
    *,
    unit_type: str = "USER",
    status: str | None = "RUNNING",
    start_at: str | None = None,
    end_at: str | None = None,
) -> AbTest:
    """An A/B test with one variant per allocation (the first is the control),
    moved to ``status`` (left a draft when None)."""
    block: dict[str, Any] = {"unitType": unit_type}
    if start_at:
        block["startAt"] = start_at
    if end_at:
        block["endAt"] = end_at
    experiment = await create_experiment(gql, name, "AB_TEST", abTest=block)
    variants = []
    for i, share in enumerate(allocations):
        data = await gql.data(
            CREATE_VARIANT,
            {"input": {"experimentId": experiment["id"], "name": f"v{i}", "allocation": share}},
        )
        variants.append(data["createVariant"]["variant"]["id"])
    if status is not None:
        await set_status(gql, experiment["id"], status)
    return AbTest(experiment["id"], name, variants, list(allocations))


async def set_status(gql: GraphQLClient, experiment_id: str, status: str) -> None:
    await gql.data(SET_STATUS, {"id": experiment_id, "status": status})


async def assign(
    gql: GraphQLClient, experiment_id: str, unit_id: str, unit_type: str = "USER"
) -> Any:
    body = await gql.data(
        ASSIGN,
        {"input": {"experimentId": experiment_id, "unitType": unit_type, "unitId": unit_id}},
    )
    return body["assignUnit"]["assignment"]


def event(
    test: AbTest,
    unit_id: str,
    variant_id: str,
    *,
    event_id: str | None = None,
    metrics: dict[str, Any] | None = None,
    timestamp: str = "2026-03-01T10:15:00Z",
    event_type: str = "plan_generated",
) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "eventType": event_type,
        "unitType": "USER",
        "unitId": unit_id,
        "experiments": [{"experimentId": test.id, "variantId": variant_id}],
        "metrics": metrics if metrics is not None else {"latency_ms": 100},
        "timestamp": timestamp,
    }


async def record(gql: GraphQLClient, events: list[dict[str, Any]]) -> dict[str, Any]:
    return await gql.post(RECORD, {"input": {"events": events}})
