/**
 * A run's setup, before its first turn: the input checked, the spec (carried, or resolved and the
 * transcript opened with the agent's instructions and what is remembered about the user), then what
 * every turn works with: the limits, the budget and its price, the tools the model is offered, the
 * memory, the transcript's bound and its sender.
 */
import { log, workflowInfo } from '@temporalio/workflow';
import type { ModelTool } from '../activities';
import { isMemoryWorkflowId, MEMORY_IDS_RESERVED } from '../src/contract';
import { DEFAULT_MAX_STEPS } from '../src/defaults';
import { ErrorType } from '../src/errors';
import { handoffModelTools } from '../src/handoff-targets';
import { describeFailure, detailsOf, withoutStack } from '../src/failures';
import { agentRunInputSchema, type ParsedAgentRunInput } from '../src/input';
import { PATCHES_IN_SPEC } from '../src/patches';
import type { AgentSpec, ChatMessage, Limits } from '../src/types';
import { describeIssues, serializedBytes } from '../src/validation';
import { resolveSpecWhereRegistered } from './activities';
import { Budget, budgetsOf, costBudgetPrice, type BudgetMemory } from './budget';
import { compactTranscript, MessageSizes } from './compaction';
import { MEMORY_TOOLS, recalledFacts, runMemoryId } from './memory-tools';
import { listRunMcpTools } from './mcp-tool-lists';
import { hasLoopGuards } from './patch-checks';
import { cappedLimits, SubAgentCaller, subAgentTools } from './sub-agent-calls';
import type { RunState } from './run-state';
import { invalidInput, startFailure, unpricedModel } from './run-failures';
import { TranscriptSender } from './transcript-sender';

/** The run's input, checked: the same checks for a start from code, the project CLI or the Temporal CLI. */
export function acceptInput(rawInput: unknown): ParsedAgentRunInput {
  const parsed = agentRunInputSchema.safeParse(rawInput);
  if (!parsed.success) throw invalidInput(describeIssues(parsed.error));
  // Only a parent run hands a run its place in a tree (and the budget the tree has left for it).
  if (parsed.data.subAgent && !workflowInfo().parent) throw invalidInput('subAgent is set by a parent run only');
  // A run under a memory's id would take that id from the memory: its `remember` calls would all fail.
  const { workflowId } = workflowInfo();
  if (isMemoryWorkflowId(workflowId))
    throw invalidInput(`workflow id ${JSON.stringify(workflowId)}: ${MEMORY_IDS_RESERVED}`);
  return parsed.data;
}

/**
 * Not an ApplicationFailure: only the workflow task fails, nothing is recorded, and Temporal hands the
 * task to a worker of the queue again, at growing intervals.
 */
class RunLeftToAnotherWorker extends Error {}

/**
 * The run's spec: the one its predecessor carried, or resolved now, when the transcript also opens
 * with the agent's instructions and, for a memory-enabled agent's run with a user, what earlier runs
 * remembered about that user.
 */
export async function startRun(run: RunState): Promise<AgentSpec> {
  if (run.spec) return run.spec;
  const { agent, model, fallbackModels, userId } = run.input;
  try {
    // The start event's time: `runStartTime` is the first task's, which moves as the task is retried.
    const runStartedAtMs = workflowInfo().startTime.getTime();
    // A worker that runs tools as local activities leaves the whole run to another worker instead,
    // since the agent's tools would run where the run runs.
    run.spec = await resolveSpecWhereRegistered(
      { agent, model, fallbackModels, runStartedAtMs, knownPatches: PATCHES_IN_SPEC },
      (notHere) => !notHere.runsToolsLocally,
    );
  } catch (error) {
    if (!detailsOf(error, ErrorType.AgentNotOnThisWorker)) throw startFailure(error);
    throw withoutStack(new RunLeftToAnotherWorker(describeFailure(error).message));
  }
  run.messages.push({ role: 'system', content: run.spec.instructions });
  const recalled = await recalledFacts(run.spec, userId);
  if (recalled) run.messages.push(recalled);
  return run.spec;
}

/** The transcript kept within the spec's bound; `bytes` is its size when last compacted (about what a continuation carries). */
export class TranscriptBound {
  bytes = 0;
  private readonly sizes = new MessageSizes();

  constructor(
    private readonly messages: ChatMessage[],
    private readonly maxBytes: number | undefined,
  ) {}

  /** Compacts the transcript to the bound; returns its serialized size. */
  compact(): number {
    if (!this.maxBytes) return (this.bytes = this.sizes.total(this.messages));
    const { replaced, bytes } = compactTranscript(this.messages, this.maxBytes, this.sizes);
    if (replaced) log.info('transcript compacted', { omittedMessages: replaced });
    return (this.bytes = bytes);
  }
}

/** What every turn of a run works with; a handoff replaces what is its agent's (`AgentSetup`). */
export interface RunSetup {
  /** The spec of the agent the run acts as: its own, or the one a handoff passed it to. */
  spec: AgentSpec;
  limits: Limits;
  budget: Budget;
  modelTools: ModelTool[];
  /** The bytes of `modelTools` in a request. */
  toolsBytes: number;
  /** The workflow id of the user's memory this run uses (the spec recorded its scope); none without memory. */
  memoryId: string | undefined;
  /** Set when the spec has sub-agents. */
  subAgents?: SubAgentCaller;
  transcript: TranscriptBound;
  transcripts: TranscriptSender;
}

/**
 * The tools the model is offered: the spec's (its MCP servers' among them, once listed), the memory
 * tools, the sub-agents and the transfer tools of its handoffs.
 */
function modelToolsOf(spec: AgentSpec, memoryId: string | undefined): ModelTool[] {
  return [
    ...spec.tools.map(({ name, description, parameters }) => ({ name, description, parameters })),
    ...(memoryId !== undefined ? MEMORY_TOOLS : []),
    ...subAgentTools(spec),
    ...handoffModelTools(spec),
  ];
}

/**
 * At the start of a turn (a task's only one), for a run with MCP servers: lists their tools, and
 * offers the model the lists that changed (workflows/mcp-tool-lists.ts).
 */
export async function listMcpToolsForTurn(setup: RunSetup): Promise<void> {
  if (!setup.spec.mcpServers?.length) return;
  const reserved = [
    ...(setup.memoryId !== undefined ? MEMORY_TOOLS.map((tool) => tool.name) : []),
    ...(setup.spec.subAgents ?? []).map((sub) => sub.name),
    ...(setup.spec.handoffs ?? []).map((handoff) => handoff.tool),
  ];
  if (!(await listRunMcpTools(setup.spec, reserved))) return;
  setup.modelTools = modelToolsOf(setup.spec, setup.memoryId);
  setup.toolsBytes = serializedBytes(setup.modelTools);
}

/**
 * Sets up the turns of `run` under `spec`, as the agent a predecessor was handed to if it was (the
 * limits stay the run's own); fails `UnpricedModel` when a cost budget cannot be kept.
 */
export function setUpRun(run: RunState, spec: AgentSpec): RunSetup {
  const limits = cappedLimits(
    { maxSteps: DEFAULT_MAX_STEPS, ...spec.limits, ...run.input.limits },
    run.input.subAgent?.caps,
  );
  const agent = run.handedTo ?? spec;
  return {
    limits,
    ...setUpAgent(run, agent, limits, run.carried?.budget),
    transcript: new TranscriptBound(run.messages, spec.transcriptMaxBytes ?? spec.transcriptMaxChars),
    transcripts: new TranscriptSender(agent, run.carried?.messages),
  };
}

/** What of a run's setup is its agent's: what a handoff sets up again for the agent it hands the run to. */
export type AgentSetup = Pick<RunSetup, 'spec' | 'budget' | 'modelTools' | 'toolsBytes' | 'memoryId' | 'subAgents'>;

/**
 * The setup of `run` as the agent of `spec` under the run's `limits`: its budget priced for that
 * agent's models (going on from `budgetMemory`), the tools its model is offered, its memory and its
 * sub-agents.
 */
export function setUpAgent(run: RunState, spec: AgentSpec, limits: Limits, budgetMemory?: BudgetMemory): AgentSetup {
  const price = costBudgetPrice(spec, limits);
  if (price === 'unpriced' && hasLoopGuards(spec)) throw unpricedModel(spec);
  const budget = new Budget(
    budgetsOf(limits),
    limits.lifetime ?? {},
    price === 'unpriced' ? undefined : price,
    () => ({ steps: run.progress.step, usage: run.progress.usage, startedAtMs: run.startedAtMs }),
    budgetMemory,
  );
  const memoryId = runMemoryId(spec, run.input.userId);
  const modelTools = modelToolsOf(spec, memoryId);
  return {
    spec,
    budget,
    modelTools,
    toolsBytes: serializedBytes(modelTools),
    memoryId,
    // Set to undefined when the agent has none: a handoff from an agent with sub-agents drops its caller.
    subAgents: spec.subAgents?.length
      ? new SubAgentCaller(spec, run.input, limits, budget, run.subAgentTree, run.messages)
      : undefined,
  };
}
