/**
 * The work every row does, and the scripted model's side of it: a run of the `bench` agent is 6
 * model calls (turns 0–4 ask for `lookup` of key k<turn>, turn 5 answers `done`) and 5 tool calls. A
 * *step* is one model call plus the tool call it asked for. Session runs (idle sessions, scale.ts)
 * are tagged in their message and answered with text at once, one model call per message.
 */
import { reply, turnOf, type ModelRequest, type Reply } from '../../testing';
import { pluginApi } from '../../src/plugin-api';
import { toolParameters } from '../../src/spec';
import type { AgentRunInput } from '../../src/input';
import type { AgentRunResult } from '../../src/types';
import benchAgents, { BENCH_AGENT } from '../agent';

/** Model calls of one run; also its steps. */
export const MODEL_CALLS = 6;
/** Tool calls of one run. */
export const TOOL_CALLS = 5;
/** Steps of one run: a model call and the tool call it asked for (the last one asks for none). */
export const STEPS = MODEL_CALLS;
/** Activities an `agentRun` of the work unit runs: the spec, then every model and tool call. */
export const AGENT_RUN_ACTIVITIES = 1 + MODEL_CALLS + TOOL_CALLS;
/** Of those, the local ones with regular model and tool calls: the spec's resolution. */
export const AGENT_RUN_LOCAL_ACTIVITIES = 1;

export const TASK_MESSAGE = 'Look up the five keys.';
/** Messages of session runs start with this; the model answers them with text at once. */
export const SESSION_TAG = '[session]';
export const SESSION_REPLY = 'ok';

/** The input of one bench run. */
export const taskInput: AgentRunInput = { agent: BENCH_AGENT, message: TASK_MESSAGE };

/**
 * What a run sends the model outside Temporal (the bare loop, the durable peers): the bench agent's
 * instructions and tool schemas, as `agentRun` sends them, and the task message.
 */
export function benchTask() {
  const [agent] = benchAgents(pluginApi);
  const tools = agent.tools.map((tool) => ({
    type: 'function' as const,
    function: { name: tool.name, description: tool.description, parameters: toolParameters(tool) },
  }));
  return { instructions: agent.instructions, message: TASK_MESSAGE, tools };
}

/** The input of one idle-session run. */
export const sessionInput: AgentRunInput = { agent: BENCH_AGENT, message: `${SESSION_TAG} hello`, mode: 'session' };

/** What the scripted model saw, to check that every row did the whole work unit. */
export interface ModelStats {
  requests: number;
  /** Requests per turn (0–5) of task runs. */
  byTurn: number[];
  /** Requests of session runs. */
  session: number;
  /** Requests at turn n > 0 whose last message was not the tool result of key k(n-1). */
  badToolResults: number;
}

export function emptyStats(): ModelStats {
  return { requests: 0, byTurn: Array.from({ length: MODEL_CALLS }, () => 0), session: 0, badToolResults: 0 };
}

/** The model's answers for the work unit, each after `delayMs`; counts what it saw in `stats`. */
export function benchScript(stats: ModelStats, delayMs = 0): (request: ModelRequest) => Reply {
  const delayed = (answer: Reply): Reply => (delayMs && answer.kind === 'message' ? { ...answer, delayMs } : answer);
  return (request) => {
    stats.requests += 1;
    const user = request.messages.find((message) => message.role === 'user');
    if (user?.content.startsWith(SESSION_TAG)) {
      stats.session += 1;
      return delayed(reply.text(SESSION_REPLY));
    }
    const turn = turnOf(request);
    if (turn >= MODEL_CALLS) return reply.error(400, `the bench script has no turn ${turn}`);
    stats.byTurn[turn] += 1;
    if (turn > 0) {
      const last = request.messages[request.messages.length - 1];
      if (last?.role !== 'tool' || !last.content.includes(`v:k${turn - 1}`)) stats.badToolResults += 1;
    }
    return delayed(
      turn < MODEL_CALLS - 1 ? reply.tools([{ name: 'lookup', args: { key: `k${turn}` } }]) : reply.text('done'),
    );
  };
}

/**
 * Checks that the model saw `runs` whole task runs between two stats snapshots: every turn reached
 * by each run, each tool result fed back. Returns the requests beyond that (retries), or throws.
 */
export function checkModelWork(before: ModelStats, after: ModelStats, runs: number, row: string): number {
  const turns = after.byTurn.map((count, turn) => count - before.byTurn[turn]);
  const bad = after.badToolResults - before.badToolResults;
  if (bad > 0) throw new Error(`${row}: ${bad} model requests did not carry the previous tool result`);
  const short = turns.findIndex((count) => count < runs);
  if (short >= 0)
    throw new Error(`${row}: the model saw ${turns[short]} requests at turn ${short}, expected ${runs} (${turns})`);
  return after.requests - before.requests - runs * MODEL_CALLS;
}

/** Throws unless `result` is a whole run of the work unit: completed, in 6 steps, answering `done`. */
export function checkRunResult(result: AgentRunResult, workflowId: string): void {
  if (result.status !== 'completed' || result.steps !== STEPS || result.output !== 'done')
    throw new Error(`run ${workflowId} did not do the work unit: ${JSON.stringify(result).slice(0, 300)}`);
}
