from typing import Any, Optional, Union

from .async_base_client import AsyncBaseClient
from .base_model import UNSET, UnsetType
from .claim_dataset_job import ClaimDatasetJob
from .claim_execution import ClaimExecution
from .claim_hpo_trial import ClaimHpoTrial
from .claim_nas_trial import ClaimNasTrial
from .enums import DatasetJobKind, DatasetJobOutcome, HpoTrialOutcome, NasTrialStatus
from .finish_dataset_job import FinishDatasetJob
from .finish_nas_trial import FinishNasTrial
from .finish_trial import FinishTrial
from .heartbeat_execution import HeartbeatExecution
from .heartbeat_nas_trial import HeartbeatNasTrial
from .heartbeat_trial import HeartbeatTrial
from .incomplete_runs import IncompleteRuns
from .input_types import (
    AnnotationInput,
    DatasetJobResultInput,
    RunInput,
    TrainingEpochInput,
    TrainingMetricsInput,
)
from .log_training_epochs import LogTrainingEpochs
from .record_experiment_runs import RecordExperimentRuns
from .record_run_annotations import RecordRunAnnotations
from .release_execution import ReleaseExecution
from .report_dataset_job_progress import ReportDatasetJobProgress
from .report_intermediate import ReportIntermediate


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

    async def log_training_epochs(
        self,
        experiment_id: str,
        epochs: list[TrainingEpochInput],
        fencing_token: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> LogTrainingEpochs:
        query = gql("""
            mutation LogTrainingEpochs($experimentId: ID!, $fencingToken: BigInt, $epochs: [TrainingEpochInput!]!) {
              logTrainingEpochs(
                input: {experimentId: $experimentId, fencingToken: $fencingToken, epochs: $epochs}
              ) {
                trainingRuns {
                  epoch
                }
              }
            }
            """)
        variables: dict[str, object] = {
            "experimentId": experiment_id,
            "fencingToken": fencing_token,
            "epochs": epochs,
        }
        response = await self.execute(
            query=query,
            operation_name="LogTrainingEpochs",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return LogTrainingEpochs.model_validate(data)

    async def claim_nas_trial(
        self,
        worker_id: str,
        campaign_id: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> ClaimNasTrial:
        query = gql("""
            mutation ClaimNasTrial($workerId: String!, $campaignId: ID) {
              claimNasTrial(input: {workerId: $workerId, campaignId: $campaignId}) {
                trial {
                  id
                  trialNumber
                  fencingToken
                  architecture
                  architectureHash
                  campaign {
                    id
                    name
                    maxEpochsPerTrial
                    seed
                  }
                }
              }
            }
            """)
        variables: dict[str, object] = {
            "workerId": worker_id,
            "campaignId": campaign_id,
        }
        response = await self.execute(
            query=query, operation_name="ClaimNasTrial", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ClaimNasTrial.model_validate(data)

    async def heartbeat_nas_trial(
        self, trial_id: str, worker_id: str, fencing_token: str, **kwargs: Any
    ) -> HeartbeatNasTrial:
        query = gql("""
            mutation HeartbeatNasTrial($trialId: ID!, $workerId: String!, $fencingToken: BigInt!) {
              heartbeatNasTrial(
                input: {trialId: $trialId, workerId: $workerId, fencingToken: $fencingToken}
              ) {
                trial {
                  status
                }
              }
            }
            """)
        variables: dict[str, object] = {
            "trialId": trial_id,
            "workerId": worker_id,
            "fencingToken": fencing_token,
        }
        response = await self.execute(
            query=query,
            operation_name="HeartbeatNasTrial",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return HeartbeatNasTrial.model_validate(data)

    async def finish_nas_trial(
        self,
        trial_id: str,
        worker_id: str,
        fencing_token: str,
        status: NasTrialStatus,
        validation_accuracy: Union[Optional[float], UnsetType] = UNSET,
        validation_loss: Union[Optional[float], UnsetType] = UNSET,
        training_time: Union[Optional[float], UnsetType] = UNSET,
        num_parameters: Union[Optional[int], UnsetType] = UNSET,
        flops: Union[Optional[str], UnsetType] = UNSET,
        model_size_mb: Union[Optional[float], UnsetType] = UNSET,
        metrics: Union[Optional[Any], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> FinishNasTrial:
        query = gql("""
            mutation FinishNasTrial($trialId: ID!, $workerId: String!, $fencingToken: BigInt!, $status: NasTrialStatus!, $validationAccuracy: Float, $validationLoss: Float, $trainingTime: Float, $numParameters: Int, $flops: BigInt, $modelSizeMb: Float, $metrics: JSON) {
              finishNasTrial(
                input: {trialId: $trialId, workerId: $workerId, fencingToken: $fencingToken, status: $status, validationAccuracy: $validationAccuracy, validationLoss: $validationLoss, trainingTime: $trainingTime, numParameters: $numParameters, flops: $flops, modelSizeMb: $modelSizeMb, metrics: $metrics}
              ) {
                trial {
                  status
                }
                campaign {
                  status
                }
              }
            }
            """)
        variables: dict[str, object] = {
            "trialId": trial_id,
            "workerId": worker_id,
            "fencingToken": fencing_token,
            "status": status,
            "validationAccuracy": validation_accuracy,
            "validationLoss": validation_loss,
            "trainingTime": training_time,
            "numParameters": num_parameters,
            "flops": flops,
            "modelSizeMb": model_size_mb,
            "metrics": metrics,
        }
        response = await self.execute(
            query=query, operation_name="FinishNasTrial", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return FinishNasTrial.model_validate(data)

    async def claim_dataset_job(
        self,
        worker_id: str,
        kind: Union[Optional[DatasetJobKind], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> ClaimDatasetJob:
        query = gql("""
            mutation ClaimDatasetJob($workerId: String!, $kind: DatasetJobKind) {
              claimDatasetJob(input: {workerId: $workerId, kind: $kind}) {
                job {
                  __typename
                  id
                  kind
                  name
                  config
                  fencingToken
                  dataset {
                    id
                    name
                  }
                }
              }
            }
            """)
        variables: dict[str, object] = {"workerId": worker_id, "kind": kind}
        response = await self.execute(
            query=query, operation_name="ClaimDatasetJob", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ClaimDatasetJob.model_validate(data)

    async def report_dataset_job_progress(
        self,
        job_id: str,
        worker_id: str,
        fencing_token: str,
        progress: int,
        **kwargs: Any,
    ) -> ReportDatasetJobProgress:
        query = gql("""
            mutation ReportDatasetJobProgress($jobId: ID!, $workerId: String!, $fencingToken: BigInt!, $progress: Int!) {
              reportDatasetJobProgress(
                input: {jobId: $jobId, workerId: $workerId, fencingToken: $fencingToken, progress: $progress}
              ) {
                job {
                  __typename
                  status
                  progress
                }
              }
            }
            """)
        variables: dict[str, object] = {
            "jobId": job_id,
            "workerId": worker_id,
            "fencingToken": fencing_token,
            "progress": progress,
        }
        response = await self.execute(
            query=query,
            operation_name="ReportDatasetJobProgress",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return ReportDatasetJobProgress.model_validate(data)

    async def finish_dataset_job(
        self,
        job_id: str,
        worker_id: str,
        fencing_token: str,
        status: DatasetJobOutcome,
        dataset: Union[Optional[DatasetJobResultInput], UnsetType] = UNSET,
        duration_seconds: Union[Optional[float], UnsetType] = UNSET,
        error_message: Union[Optional[str], UnsetType] = UNSET,
        num_files: Union[Optional[int], UnsetType] = UNSET,
        output_path: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> FinishDatasetJob:
        query = gql("""
            mutation FinishDatasetJob($jobId: ID!, $workerId: String!, $fencingToken: BigInt!, $status: DatasetJobOutcome!, $dataset: DatasetJobResultInput, $durationSeconds: Float, $errorMessage: String, $numFiles: Int, $outputPath: String) {
              finishDatasetJob(
                input: {jobId: $jobId, workerId: $workerId, fencingToken: $fencingToken, status: $status, dataset: $dataset, durationSeconds: $durationSeconds, errorMessage: $errorMessage, numFiles: $numFiles, outputPath: $outputPath}
              ) {
                job {
                  __typename
                  status
                  dataset {
                    id
                  }
                }
              }
            }
            """)
        variables: dict[str, object] = {
            "jobId": job_id,
            "workerId": worker_id,
            "fencingToken": fencing_token,
            "status": status,
            "dataset": dataset,
            "durationSeconds": duration_seconds,
            "errorMessage": error_message,
            "numFiles": num_files,
            "outputPath": output_path,
        }
        response = await self.execute(
            query=query,
            operation_name="FinishDatasetJob",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return FinishDatasetJob.model_validate(data)

    async def claim_hpo_trial(
        self,
        worker_id: str,
        campaign_id: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> ClaimHpoTrial:
        query = gql("""
            mutation ClaimHpoTrial($workerId: String!, $campaignId: ID) {
              claimHpoTrial(input: {workerId: $workerId, campaignId: $campaignId}) {
                trial {
                  id
                  number
                  fencingToken
                  experiment {
                    id
                    name
                    hyperparameters
                  }
                  campaign {
                    id
                    name
                    seed
                    objective {
                      metric
                      direction
                    }
                    budget {
                      maxEpochs
                    }
                  }
                }
              }
            }
            """)
        variables: dict[str, object] = {
            "workerId": worker_id,
            "campaignId": campaign_id,
        }
        response = await self.execute(
            query=query, operation_name="ClaimHpoTrial", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ClaimHpoTrial.model_validate(data)

    async def heartbeat_trial(
        self, experiment_id: str, worker_id: str, fencing_token: str, **kwargs: Any
    ) -> HeartbeatTrial:
        query = gql("""
            mutation HeartbeatTrial($experimentId: ID!, $workerId: String!, $fencingToken: BigInt!) {
              heartbeatTrial(
                input: {experimentId: $experimentId, workerId: $workerId, fencingToken: $fencingToken}
              ) {
                trial {
                  state
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
            query=query, operation_name="HeartbeatTrial", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return HeartbeatTrial.model_validate(data)

    async def report_intermediate(
        self,
        experiment_id: str,
        worker_id: str,
        fencing_token: str,
        epoch: int,
        value: float,
        **kwargs: Any,
    ) -> ReportIntermediate:
        query = gql("""
            mutation ReportIntermediate($experimentId: ID!, $workerId: String!, $fencingToken: BigInt!, $epoch: Int!, $value: Float!) {
              reportIntermediate(
                input: {experimentId: $experimentId, workerId: $workerId, fencingToken: $fencingToken, epoch: $epoch, value: $value}
              ) {
                shouldPrune
              }
            }
            """)
        variables: dict[str, object] = {
            "experimentId": experiment_id,
            "workerId": worker_id,
            "fencingToken": fencing_token,
            "epoch": epoch,
            "value": value,
        }
        response = await self.execute(
            query=query,
            operation_name="ReportIntermediate",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return ReportIntermediate.model_validate(data)

    async def finish_trial(
        self,
        experiment_id: str,
        worker_id: str,
        fencing_token: str,
        status: HpoTrialOutcome,
        value: Union[Optional[float], UnsetType] = UNSET,
        metrics: Union[Optional[TrainingMetricsInput], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> FinishTrial:
        query = gql("""
            mutation FinishTrial($experimentId: ID!, $workerId: String!, $fencingToken: BigInt!, $status: HpoTrialOutcome!, $value: Float, $metrics: TrainingMetricsInput) {
              finishTrial(
                input: {experimentId: $experimentId, workerId: $workerId, fencingToken: $fencingToken, status: $status, value: $value, metrics: $metrics}
              ) {
                trial {
                  state
                  value
                }
                campaign {
                  status
                }
              }
            }
            """)
        variables: dict[str, object] = {
            "experimentId": experiment_id,
            "workerId": worker_id,
            "fencingToken": fencing_token,
            "status": status,
            "value": value,
            "metrics": metrics,
        }
        response = await self.execute(
            query=query, operation_name="FinishTrial", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return FinishTrial.model_validate(data)
