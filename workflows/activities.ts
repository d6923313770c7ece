/**
 * The activities as the run calls them, each with its timeouts and retry policy: short fixed ones
 * for the spec and argument checks, the worker's model-call policy recorded in the spec, and each
 * tool's own timeout, retry policy and task queue.
 */
import { ActivityCancellationType, patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type {
  Activities,
  ModelCallInput,
  ModelCallResult,
  SummaryCallInput,
  ToolCallInput,
  ToolCallOutcome,
} from '../activities';
import { LONGEST_MODEL_OUTAGE_DELAY_SECONDS } from '../src/defaults';
import { ErrorType, NON_RETRYABLE_MODEL_ERRORS } from '../src/errors';
import type {
  AgentNotOnThisWorkerDetails,
  ForwardedDecisionInput,
  McpListInput,
  McpToolList,
} from '../src/activity-contract';
import { detailsOf } from '../src/failures';
import type { McpServerSpec } from '../src/mcp-server';
import type { AgentSpec, ToolSpec } from '../src/types';
import { Patch } from './patch-checks';

const checkOptions = {
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: [ErrorType.UnknownAgent, ErrorType.ToolNotRegistered] },
};

/** A tool call's arguments checked against the tool's schema; `eager`: see `onRegisteringWorker`. */
export function checkToolArguments(input: Parameters<Activities['checkToolArguments']>[0], eager: boolean) {
  return proxyActivities<Activities>({ ...checkOptions, allowEagerDispatch: eager }).checkToolArguments(input);
}

type SpecResolutionInput = Parameters<Activities['resolveAgentSpec']>[0];

/** The local resolution: a worker without the agent is not asked again, the run goes on (run-setup.ts). */
const localSpecOptions = {
  ...checkOptions,
  retry: {
    ...checkOptions.retry,
    nonRetryableErrorTypes: [...checkOptions.retry.nonRetryableErrorTypes, ErrorType.AgentNotOnThisWorker],
  },
};

/**
 * The agent's spec, recorded at run start: by a local activity (the worker running the run reads its
 * own registry, with no round trip through the server) in runs started since that change. A worker
 * without the agent says so at once: `resolveAgentSpecOnAnotherWorker` is what follows.
 */
function resolveAgentSpec(input: SpecResolutionInput): Promise<AgentSpec> {
  if (!patched(Patch.localSpecResolution)) return proxyActivities<Activities>(checkOptions).resolveAgentSpec(input);
  return proxyLocalActivities<Activities>(localSpecOptions).resolveAgentSpec(input);
}

/**
 * The spec resolved by a worker of the run's queue that registers the agent, when the one running the
 * run does not: a regular activity, which the workers without the agent fail (retryably) and which
 * is tried again on whichever worker of the queue asks first, a few seconds apart, until one with the
 * agent takes it, or the wait for one (`UNKNOWN_AGENT_WAIT_SECONDS`) ends in `UnknownAgent`.
 */
function resolveAgentSpecOnAnotherWorker(input: SpecResolutionInput): Promise<AgentSpec> {
  return proxyActivities<Activities>({
    summary: `resolving the spec on a worker that registers agent ${input.agent}`,
    startToCloseTimeout: '30s',
    // Not back to this worker, which has just said it does not register the agent.
    allowEagerDispatch: false,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '5s',
      nonRetryableErrorTypes: [ErrorType.UnknownAgent],
    },
  }).resolveAgentSpec(input);
}

/**
 * The spec of `input.agent`, resolved by this worker or, when it does not register the agent and
 * `mayHandOver` allows, by a worker of the queue that does (the run's tool calls are then never eager:
 * `resolvedElsewhere`). Else this worker's failure is thrown.
 */
export async function resolveSpecWhereRegistered(
  input: SpecResolutionInput,
  mayHandOver: (notHere: Partial<AgentNotOnThisWorkerDetails>) => boolean,
): Promise<AgentSpec> {
  try {
    return await resolveAgentSpec(input);
  } catch (error) {
    const notHere = detailsOf<AgentNotOnThisWorkerDetails>(error, ErrorType.AgentNotOnThisWorker);
    if (!notHere || !mayHandOver(notHere)) throw error;
    return { ...(await resolveAgentSpecOnAnotherWorker(input)), resolvedElsewhere: true };
  }
}

/** A deadline (workflow time) as the schedule-to-close timeout that enforces it, if there is one. */
function until(deadlineMs: number | undefined) {
  return deadlineMs === undefined ? {} : { scheduleToCloseTimeout: Math.max(1, deadlineMs - Date.now()) };
}

/**
 * The model activities under the worker's model-call policy, shown as `summary` in the Web UI: local
 * activities when the spec says so (no heartbeats there: a dead worker's call is retried with its
 * workflow task). 429s and output the server could not parse come back at once: the run retries them
 * (model-calls.ts). Runs whose spec has an outage budget wait at most 30 s between attempts.
 */
function modelActivities(spec: AgentSpec, summary: string, deadlineMs: number | undefined) {
  const options = {
    summary,
    // Room for the request and, in runs recorded since pacing, a wait for the provider's rate limit before it.
    startToCloseTimeout: spec.modelCall.requestTimeoutMs + 5_000 + (spec.modelCall.pacingWaitMs ?? 0),
    ...until(deadlineMs),
    retry: {
      maximumAttempts: spec.modelCall.maxAttempts,
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval:
        spec.modelCall.unavailableBudgetMs === undefined ? '60s' : LONGEST_MODEL_OUTAGE_DELAY_SECONDS * 1000,
      nonRetryableErrorTypes: [
        ...NON_RETRYABLE_MODEL_ERRORS,
        ErrorType.ModelRateLimited,
        ErrorType.ModelOutputUnparsed,
      ],
    },
  };
  return spec.modelCall.local
    ? proxyLocalActivities<Activities>(options)
    : proxyActivities<Activities>({
        ...options,
        heartbeatTimeout: spec.modelCall.heartbeatTimeoutMs,
        taskQueue: spec.modelCall.taskQueue,
      });
}

/** Marks a call's summary when it is a fallback. */
function labelled(label: string, fallback: boolean, ...marks: (string | false)[]): string {
  return [label, fallback && 'fallback', ...marks].filter(Boolean).join(' · ');
}

/**
 * One model call (shown as `model <name> · step N` in the Web UI, marked when it is a fallback or a
 * wrap-up). 429s come back at once: the run retries them on a time budget of their own.
 */
export function callModel(
  spec: AgentSpec,
  input: Omit<ModelCallInput, 'agent' | 'requestTimeoutMs'>,
  options: { fallback: boolean; deadlineMs?: number },
): Promise<ModelCallResult> {
  const summary = labelled(
    `model ${input.model} · step ${input.step}`,
    options.fallback,
    input.toolChoice === 'none' && 'wrap-up',
  );
  return modelActivities(spec, summary, options.deadlineMs).callModel({
    ...input,
    agent: spec.name,
    requestTimeoutMs: spec.modelCall.requestTimeoutMs,
    ...(spec.modelSettings && { modelSettings: spec.modelSettings }),
  });
}

/** A summary of the oldest part of the conversation (shown as `summarize · step N`), before step N. */
export function summarizeConversation(
  spec: AgentSpec,
  input: Omit<SummaryCallInput, 'agent' | 'requestTimeoutMs'>,
  options: { fallback: boolean; deadlineMs?: number },
): Promise<ModelCallResult> {
  const summary = labelled(`summarize · step ${input.step}`, options.fallback);
  return modelActivities(spec, summary, options.deadlineMs).summarizeConversation({
    ...input,
    agent: spec.name,
    requestTimeoutMs: spec.modelCall.requestTimeoutMs,
    ...(spec.modelSettings && { modelSettings: spec.modelSettings }),
  });
}

/**
 * Runs a tool under its own policy (shown as `tool <name>` in the Web UI), as a local activity when
 * its spec says so. A cancelled run waits for its tools to stop, so nothing runs on after the run
 * reports `cancelled`.
 */
export function runTool(
  tool: ToolSpec,
  input: ToolCallInput,
  deadlineMs?: number,
  eager = true,
): Promise<ToolCallOutcome> {
  const options = {
    summary: `tool ${tool.name}`,
    startToCloseTimeout: tool.startToCloseTimeoutMs,
    ...until(deadlineMs),
    retry: tool.retry,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  };
  const activities = tool.local
    ? proxyLocalActivities<Activities>(options)
    : proxyActivities<Activities>({
        ...options,
        heartbeatTimeout: tool.heartbeatTimeoutMs,
        taskQueue: tool.taskQueue,
        allowEagerDispatch: eager,
      });
  return activities.runTool(input);
}

/**
 * The tools of one of the run's MCP servers (shown as `mcp <server> · tools/list`), listed on a worker
 * of the queue its calls go to, which holds the connection to the server (and its cached list).
 */
export function listMcpTools(server: McpServerSpec, input: McpListInput, eager = true): Promise<McpToolList> {
  return proxyActivities<Activities>({
    allowEagerDispatch: eager,
    summary: `mcp ${server.name} · tools/list`,
    startToCloseTimeout: '60s',
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: [ErrorType.ToolNotRegistered] },
    taskQueue: server.taskQueue,
  }).listMcpTools(input);
}

/**
 * A decision on a call waiting in a sub-agent, made on that sub-agent's run by its `approval` update
 * (on a worker of the run's queue): the run's answer, or its refusal as a non-retryable failure.
 */
export function decideOnSubAgent(input: ForwardedDecisionInput, callPath: string): Promise<string> {
  return proxyActivities<Activities>({
    summary: `approval · call ${callPath} · on the sub-agent's run`,
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 5 },
  }).decideOnSubAgent(input);
}
