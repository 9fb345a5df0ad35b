// A small typed client over fetch, using the types generated into src/generated/
// from src/operations.graphql. `npm run typecheck` (tsc --noEmit --strict) fails
// when an operation's result no longer has the shape this code reads, so a schema
// change that breaks a frontend shows up in CI.
import { print } from "graphql";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { useFragment } from "./generated";
import {
  ClaimExecutionDocument,
  ExecutionUpdatesDocument,
  ExperimentSummaryFragmentDoc,
  ExplorationTreeDocument,
  ScenarioNodeFieldsFragmentDoc,
  ListExperimentsDocument,
  type ClaimExecutionMutation,
  type ExecutionState,
  type ExecutionUpdatesSubscription,
  type ExperimentSummaryFragment,
  type ListExperimentsQuery,
  type ScenarioNodeFieldsFragment,
} from "./generated/graphql";
import type { JsonValue } from "./scalars";

/** One GraphQL error as expgraph sends it: `extensions.code` says what happened. */
export interface GraphQLErrorBody {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: JsonValue | undefined };
}

export class GraphQLRequestError extends Error {
  constructor(readonly errors: GraphQLErrorBody[]) {
    super(errors.map((error) => error.message).join("; "));
  }
}

/** Posts one operation and returns its typed data, or throws its errors. */
export async function request<TResult, TVariables>(
  url: string,
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables,
  headers: Record<string, string> = {},
): Promise<TResult> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: TResult | null; errors?: GraphQLErrorBody[] };
  if (body.errors !== undefined && body.errors.length > 0) {
    throw new GraphQLRequestError(body.errors);
  }
  if (body.data === undefined || body.data === null) {
    throw new Error(`no data in the response (HTTP ${response.status})`);
  }
  return body.data;
}

/** One line per experiment: the common fields, then what its kind adds. */
export function describeExperiment(experiment: ExperimentSummaryFragment): string {
  const name: string = experiment.name;
  const createdAt: string = experiment.createdAt; // DateTime: ISO 8601 text
  const tags: string[] = experiment.tags.edges.map((edge) => edge.node.slug);
  let detail = "";
  switch (experiment.__typename) {
    case "SimulationExperiment": {
      // BigInt: a decimal string, exact beyond 2^53.
      const seed: string | null = experiment.masterSeed;
      detail = `seed ${seed ?? "none"}, converged ${experiment.converged === true}`;
      break;
    }
    case "EvaluationExperiment": {
      const state: ExecutionState | undefined = experiment.executionConfig?.state;
      const fraction: number = experiment.executionConfig?.progress.fraction ?? 0;
      detail = `${state ?? "not configured"}, ${Math.round(fraction * 100)}% done`;
      break;
    }
    case "AbTestExperiment": {
      const startAt: string | null = experiment.startAt;
      detail = `from ${startAt ?? "not started"}`;
      break;
    }
    default:
      detail = experiment.kind;
  }
  return `${name} (${experiment.kind}, ${experiment.status}, ${createdAt}) [${tags.join(", ")}] ${detail}`;
}

/** Every experiment, page by page. */
export async function listAllExperiments(url: string, headers?: Record<string, string>): Promise<string[]> {
  const lines: string[] = [];
  let after: string | null = null;
  for (;;) {
    const data: ListExperimentsQuery = await request(url, ListExperimentsDocument, { first: 100, after }, headers);
    for (const edge of data.experiments.edges) {
      lines.push(describeExperiment(useFragment(ExperimentSummaryFragmentDoc, edge.node)));
    }
    if (!data.experiments.pageInfo.hasNextPage) return lines;
    after = data.experiments.pageInfo.endCursor;
  }
}

/** The claimed execution's config, typed as the ClaimExecution operation selects it. */
type HeldConfig = NonNullable<ClaimExecutionMutation["claimExecution"]["claim"]>["config"];

/** What a worker holds after a claim, or null when nothing is claimable. */
export interface HeldClaim {
  experimentId: string;
  fencingToken: string;
  taskConfig: HeldConfig["taskConfig"];
  evaluatorConfigs: HeldConfig["evaluatorConfigs"];
  missingRuns: string;
}

export async function claim(url: string, workerId: string, headers?: Record<string, string>): Promise<HeldClaim | null> {
  const data = await request(url, ClaimExecutionDocument, { workerId }, headers);
  const held = data.claimExecution.claim;
  if (held === null) return null;
  return {
    experimentId: held.experiment.id,
    fencingToken: held.fencingToken,
    taskConfig: held.config.taskConfig,
    evaluatorConfigs: held.config.evaluatorConfigs,
    missingRuns: held.config.progress.missing,
  };
}

/** An exploration's tree: each node's children, by parent id ("" for the root). */
export async function explorationTree(
  url: string,
  explorationId: string,
  headers?: Record<string, string>,
): Promise<Map<string, ScenarioNodeFieldsFragment[]>> {
  const data = await request(url, ExplorationTreeDocument, { id: explorationId, maxDepth: 3 }, headers);
  const tree = new Map<string, ScenarioNodeFieldsFragment[]>();
  if (data.node === null || data.node.__typename !== "Exploration") return tree;
  const root = useFragment(ScenarioNodeFieldsFragmentDoc, data.node.root);
  const below = data.node.root.descendants.map((node) => useFragment(ScenarioNodeFieldsFragmentDoc, node));
  for (const node of [root, ...below]) {
    const parentId: string = node.parent?.id ?? "";
    tree.set(parentId, [...(tree.get(parentId) ?? []), node]);
  }
  const totalLlmCalls: string = data.node.totalLlmCalls;
  void totalLlmCalls;
  return tree;
}

/** The subscription's typed document and what each message carries. */
export const executionUpdates = ExecutionUpdatesDocument;
export function describeUpdate(message: ExecutionUpdatesSubscription): string {
  const update = message.executionUpdates;
  const expected: string = update.progress.expected;
  const holder: string | null = update.config.claimedBy;
  return `${update.experimentId}: ${update.state}, ${update.progress.completed}/${expected} (held by ${holder ?? "nobody"})`;
}
