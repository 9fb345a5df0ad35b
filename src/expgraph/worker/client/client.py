from typing import Any, Optional, Union

from .async_base_client import AsyncBaseClient
from .base_model import UNSET, UnsetType
from .claim_execution import ClaimExecution
from .heartbeat_execution import HeartbeatExecution
from .incomplete_runs import IncompleteRuns
from .input_types import AnnotationInput, RunInput
from .record_experiment_runs import RecordExperimentRuns
from .record_run_annotations import RecordRunAnnotations
from .release_execution import ReleaseExecution


def gql(q: str) -> str:
    return q


class Client(AsyncBaseClient):
    async def claim_execution(
        self,
        worker_id: str,
        experiment_id: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> ClaimExecution:
        query = gql("""
            mutation ClaimExecution($workerId: String!, $experimentId: ID) {
              claimExecution(input: {workerId: $workerId, experimentId: $experimentId}) {
                claim {
                  fencingToken
                  experiment {
                    __typename
                    id
                    name
                  }
                  config {
                    taskConfig {
                      modelProvider
                      modelName
                      promptVersionId
                      template
                      customProviderId
                      invocationParameters
                      maxConcurrency
                    }
                    evaluatorConfigs {
                      name
                      kind
                      modelProvider
                      modelName
                      promptVersionId
                      customProviderId
                      parameters
                    }
                  }
                }
              }
            }
            """)
        variables: dict[str, object] = {
            "workerId": worker_id,
            "experimentId": experiment_id,
        }
        response = await self.execute(
            query=query, operation_name="ClaimExecution", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ClaimExecution.model_validate(data)

    async def heartbeat_execution(
        self, experiment_id: str, worker_id: str, fencing_token: str, **kwargs: Any
    ) -> HeartbeatExecution:
        query = gql("""
            mutation HeartbeatExecution($experimentId: ID!, $workerId: String!, $fencingToken: BigInt!) {
              heartbeatExecution(
                input: {experimentId: $experimentId, workerId: $workerId, fencingToken: $fencingToken}
              ) {
                executionConfig {
                  enabled
                  claimedBy
                }
              }
            }
            """)
        variables: dict[str, object] = {
            "experimentId": experiment_id,
            "workerId": worker_id,
            "fencingToken": fencing_token,
        }
        response = await self.execute(
            query=query,
            operation_name="HeartbeatExecution",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return HeartbeatExecution.model_validate(data)

    async def release_execution(
        self,
        experiment_id: str,
        worker_id: str,
        fencing_token: str,
        error: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> ReleaseExecution:
        query = gql("""
            mutation ReleaseExecution($experimentId: ID!, $workerId: String!, $fencingToken: BigInt!, $error: String) {
              releaseExecution(
                input: {experimentId: $experimentId, workerId: $workerId, fencingToken: $fencingToken, error: $error}
              ) {
                executionConfig {
                  state
                }
              }
            }
            """)
        variables: dict[str, object] = {
            "experimentId": experiment_id,
            "workerId": worker_id,
            "fencingToken": fencing_token,
            "error": error,
        }
        response = await self.execute(
            query=query,
            operation_name="ReleaseExecution",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return ReleaseExecution.model_validate(data)

    async def incomplete_runs(
        self,
        experiment_id: str,
        first: int,
        after: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> IncompleteRuns:
        query = gql("""
            query IncompleteRuns($experimentId: ID!, $first: Int!, $after: String) {
              node(id: $experimentId) {
                __typename
                ... on EvaluationExperiment {
                  incompleteRuns(first: $first, after: $after) {
                    items {
                      repetitionNumber
                      status
                      cursor
                      example {
                        id
                        input
                        output
                      }
                    }
                    hasNextPage
                    endCursor
                  }
                }
              }
            }
            """)
        variables: dict[str, object] = {
            "experimentId": experiment_id,
            "first": first,
            "after": after,
        }
        response = await self.execute(
            query=query, operation_name="IncompleteRuns", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return IncompleteRuns.model_validate(data)

    async def record_experiment_runs(
        self,
        experiment_id: str,
        worker_id: str,
        fencing_token: str,
        runs: list[RunInput],
        **kwargs: Any,
    ) -> RecordExperimentRuns:
        query = gql("""
            mutation RecordExperimentRuns($experimentId: ID!, $workerId: String!, $fencingToken: BigInt!, $runs: [RunInput!]!) {
              recordExperimentRuns(
                input: {experimentId: $experimentId, workerId: $workerId, fencingToken: $fencingToken, runs: $runs}
              ) {
                runs {
                  id
                  repetitionNumber
                  example {
                    id
                  }
                }
              }
            }
            """)
        variables: dict[str, object] = {
            "experimentId": experiment_id,
            "workerId": worker_id,
            "fencingToken": fencing_token,
            "runs": runs,
        }
        response = await self.execute(
            query=query,
            operation_name="RecordExperimentRuns",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return RecordExperimentRuns.model_validate(data)

    async def record_run_annotations(
        self,
        experiment_id: str,
        worker_id: str,
        fencing_token: str,
        annotations: list[AnnotationInput],
        **kwargs: Any,
    ) -> RecordRunAnnotations:
        query = gql("""
            mutation RecordRunAnnotations($experimentId: ID!, $workerId: String!, $fencingToken: BigInt!, $annotations: [AnnotationInput!]!) {
              recordRunAnnotations(
                input: {experimentId: $experimentId, workerId: $workerId, fencingToken: $fencingToken, annotations: $annotations}
              ) {
                annotations {
                  id
                }
              }
            }
            """)
        variables: dict[str, object] = {
            "experimentId": experiment_id,
            "workerId": worker_id,
            "fencingToken": fencing_token,
            "annotations": annotations,
        }
        response = await self.execute(
            query=query,
            operation_name="RecordRunAnnotations",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return RecordRunAnnotations.model_validate(data)
