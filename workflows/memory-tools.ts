/**
 * Memory across sessions, as a run of a memory-enabled agent uses it: which memory the run has (the
 * agent's own or the shared one, by its spec), the two tools the model is offered (`remember`,
 * `forget`), running their calls against that `userMemory` workflow, and the message that starts a
 * new run with what is remembered about its user.
 */
import { isCancellation, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities, ModelTool } from '../activities';
import { memoryOfWorkflowId, memoryWorkflowId } from '../src/contract';
import { Bounds, MAX_MEMORY_FACTS } from '../src/defaults';
import { describeFailure } from '../src/failures';
import { memoryFactInputSchema } from '../src/memory';
import {
  MemoryScope,
  MemoryToolName,
  type AgentSpec,
  type ChatMessage,
  type MemoryFact,
  type ToolCall,
  type UserMemoryInput,
} from '../src/types';
import { describeIssues } from '../src/validation';
import { factsContext, forgetResult, legacyFactsMessage } from './guidance';
import {
  invalidArgumentsMessage,
  parseArguments,
  toolErrorMessage,
  toolFailedMessage,
  toolMessage,
} from './tool-messages';

const factParameters = (description: string): Record<string, unknown> => ({
  type: 'object',
  properties: { fact: { type: 'string', description } },
  required: ['fact'],
  additionalProperties: false,
});

/** The tools a memory-enabled agent's model is offered when the run has a `userId`. */
export const MEMORY_TOOLS: ModelTool[] = [
  {
    name: MemoryToolName.remember,
    description:
      'Remember one fact about the user for later conversations with them (a preference, a detail they ' +
      'shared, a standing request). Write it as a short, self-contained sentence that makes sense on its ' +
      `own; remembering the same fact again refreshes it. Only the newest ${MAX_MEMORY_FACTS} facts are kept. ` +
      'Do not store secrets such as passwords or card numbers.',
    parameters: factParameters(
      `The fact, e.g. "Prefers short answers without emoji." (at most ${Bounds.memoryFactBytes} bytes)`,
    ),
  },
  {
    name: MemoryToolName.forget,
    description:
      'Forget a fact remembered about the user, for example when they ask you to or when it is no longer ' +
      'true. Give the fact as it was remembered (case and surrounding spaces do not matter).',
    parameters: factParameters('The remembered fact to forget, as listed in what you remember about this user.'),
  },
];

/** Whether `name` is one of the memory tools. */
export function isMemoryTool(name: string): boolean {
  return name === MemoryToolName.remember || name === MemoryToolName.forget;
}

type MemorySpec = Pick<AgentSpec, 'name' | 'memory' | 'memoryScope'>;

/**
 * Whose memory a run of `spec` for `userId` reads and writes; undefined when the run has none (an
 * agent without memory, or no user). A spec recorded before scopes has the shared one, as it had.
 */
export function memoryOfRun(spec: MemorySpec, userId?: string): UserMemoryInput | undefined {
  if (!spec.memory || userId === undefined) return undefined;
  return spec.memoryScope === MemoryScope.agent ? { userId, agent: spec.name } : { userId };
}

/** The workflow id of the run's memory (`memoryOfRun`), which names both user and scope; undefined for none. */
export function runMemoryId(spec: MemorySpec, userId?: string): string | undefined {
  const memory = memoryOfRun(spec, userId);
  return memory && memoryWorkflowId(memory.userId, memory.agent);
}

/**
 * A memory activity, named in the Web UI as `memory <operation>`: quick calls, retried a few times,
 * and ended by the run's time budget (`deadlineMs`, workflow time) like every other call. An update
 * may wait its turn behind other writers of the same memory and retry while the memory is congested
 * (activities/memory-updates.ts), hence the longer timeout.
 */
function memoryActivities(operation: 'recall' | 'remember' | 'forget', deadlineMs?: number) {
  return proxyActivities<Activities>({
    summary: `memory ${operation}`,
    startToCloseTimeout: operation === 'recall' ? '10s' : '60s',
    ...(deadlineMs !== undefined && { scheduleToCloseTimeout: Math.max(1, deadlineMs - Date.now()) }),
    retry: { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2 },
  });
}

/**
 * Runs a `remember` or `forget` call against the memory `memoryId` (from `runMemoryId`) and returns
 * the tool message the model reads. Arguments that are not a bounded `{fact}`, a refused update or a
 * failed call are told to the model, never thrown: the run goes on.
 */
export async function runMemoryCall(call: ToolCall, memoryId: string, deadlineMs?: number): Promise<ChatMessage> {
  const memory = memoryOfWorkflowId(memoryId)!;
  const name = call.function.name;
  const parsed = parseArguments(call.function.arguments);
  if (!parsed.ok) return toolErrorMessage(call.id, parsed.error);
  const checked = memoryFactInputSchema.safeParse(parsed.args);
  if (!checked.success) {
    return invalidArgumentsMessage(call.id, name, describeIssues(checked.error));
  }
  const { fact } = checked.data;
  try {
    if (name === MemoryToolName.remember) {
      const outcome = await memoryActivities('remember', deadlineMs).rememberFact({
        ...memory,
        fact,
        taskQueue: workflowInfo().taskQueue,
      });
      return outcome.ok ? toolMessage(call.id, outcome.value) : toolErrorMessage(call.id, outcome.error);
    }
    const outcome = await memoryActivities('forget', deadlineMs).forgetFact({ ...memory, fact });
    if (!outcome.ok) return toolErrorMessage(call.id, outcome.error);
    return toolMessage(call.id, forgetResult(outcome.value));
  } catch (error) {
    if (isCancellation(error)) throw error;
    return toolFailedMessage(call.id, name, describeFailure(error).message);
  }
}

/** The message that tells a run of `spec` what is remembered: a context block, or as recorded before scopes. */
export function recalledMessage(spec: Pick<AgentSpec, 'memoryScope'>, facts: MemoryFact[]): ChatMessage {
  return spec.memoryScope === undefined ? legacyFactsMessage(facts) : factsContext(facts);
}

/**
 * The message listing what the memory of a run of `spec` for `userId` holds, or undefined when it has
 * no memory or nothing is remembered. A memory that cannot be read (after the activity's retries) is
 * logged and the run starts without it: a run that forgot is better than one that fails.
 */
export async function recalledFacts(spec: AgentSpec, userId?: string): Promise<ChatMessage | undefined> {
  const memory = memoryOfRun(spec, userId);
  if (!memory) return undefined;
  try {
    const facts = await memoryActivities('recall').recallFacts(memory);
    return facts.length ? recalledMessage(spec, facts) : undefined;
  } catch (error) {
    if (isCancellation(error)) throw error;
    log.warn('memory not recalled', { ...memory, error: describeFailure(error).message });
    return undefined;
  }
}
