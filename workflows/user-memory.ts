/**
 * `userMemory`: one entity workflow per user and scope holding the facts memory-enabled agents
 * remember about that user: `memory@<agent>:<userId>` for one agent's own, `memory:<userId>` for the
 * memory agents share. Changed by the `remember` and `forget` updates, read by the `facts` query; it
 * never ends on its own, and continues as new, carrying its facts, when its history grows long.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { z } from 'zod';
import { AGENT_NAME, factsQuery, forgetUpdate, memoryWorkflowId, rememberUpdate } from '../src/contract';
import { Bounds } from '../src/defaults';
import { ErrorType } from '../src/errors';
import { withoutStack } from '../src/failures';
import type { MemoryFact, UserMemoryInput } from '../src/types';
import { boundedString, describeIssues } from '../src/validation';
import { MemoryFacts, validateFactInput } from './memory-facts';
import { ensureProvenContinuation } from './proven-continuation';

/** What a run of the chain hands to the next one. */
export interface CarriedFacts {
  facts: MemoryFact[];
}

// The schemas are built when a memory's run uses them: the SDK evaluates this module for every run the
// worker starts, agent runs included.
function inputSchema() {
  return z
    .object({
      userId: boundedString(Bounds.userIdBytes).min(1),
      agent: z.string().regex(AGENT_NAME, 'must be an agent name').optional(),
    })
    .strict();
}

// Loose objects: a continuation written by a newer worker may carry fields this code does not know.
function carriedSchema() {
  return z.looseObject({
    facts: z.array(
      z.looseObject({ text: boundedString(Bounds.memoryFactBytes).trim().min(1), rememberedAt: z.string() }),
    ),
  });
}

function invalidMemoryInput(problems: string): ApplicationFailure {
  return withoutStack(
    ApplicationFailure.create({
      type: ErrorType.InvalidAgentInput,
      message: `invalid userMemory input: ${problems}`,
      nonRetryable: true,
    }),
  );
}

/** Why the facts query is refused while a continuation proves itself (a moment: one local activity). */
export const MEMORY_CONTINUING = 'this memory is continuing as new and has not taken over its facts yet: ask again';

/** The input, checked: a memory under any other id than `memoryWorkflowId(userId, agent)` would never be read. */
function acceptInput(input: unknown): UserMemoryInput {
  const parsed = inputSchema().safeParse(input);
  if (!parsed.success) throw invalidMemoryInput(describeIssues(parsed.error));
  const { userId, agent } = parsed.data;
  const expected = memoryWorkflowId(userId, agent);
  if (workflowInfo().workflowId !== expected) {
    const whose = agent === undefined ? '' : ` for agent ${JSON.stringify(agent)}`;
    throw invalidMemoryInput(`the memory of user ${JSON.stringify(userId)}${whose} must run as ${expected}`);
  }
  return parsed.data;
}

/** The facts this run continues with; only the chain's own continue-as-new may pass them (as in agentRun). */
function acceptCarriedFacts(carried: unknown): MemoryFact[] {
  if (carried === undefined) return [];
  if (!workflowInfo().continuedFromExecutionRunId) {
    throw invalidMemoryInput(
      'userMemory takes one argument; a second (the facts carried over) is accepted only from the run it continues',
    );
  }
  const parsed = carriedSchema().safeParse(carried);
  if (!parsed.success) throw invalidMemoryInput(`carried facts: ${describeIssues(parsed.error)}`);
  return parsed.data.facts;
}

export async function userMemory(rawInput: UserMemoryInput, carried?: CarriedFacts): Promise<never> {
  const input = acceptInput(rawInput);
  const carriedFacts = acceptCarriedFacts(carried);
  // Carried facts are held back until the run proved it continues its own chain: until then it
  // answers no query with them and applies no update on top of them.
  let memory: MemoryFacts | undefined = carried === undefined ? new MemoryFacts() : undefined;
  const ready = async (): Promise<MemoryFacts> => {
    await condition(() => memory !== undefined);
    return memory!;
  };

  // Until then the facts are unknown, not none: a run reading none would forget its user.
  setHandler(factsQuery, () => {
    if (!memory) throw new Error(MEMORY_CONTINUING);
    return memory.list();
  });
  setHandler(rememberUpdate, async (update) => (await ready()).remember(update, new Date().toISOString()), {
    validator: validateFactInput,
  });
  setHandler(forgetUpdate, async (update) => (await ready()).forget(update), { validator: validateFactInput });

  if (!memory) {
    await ensureProvenContinuation(invalidMemoryInput);
    memory = new MemoryFacts(carriedFacts);
  }
  // Waits for updates for ever; wakes only to hand its facts to a fresh run before history grows long.
  await condition(() => workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  return await continueAsNew<typeof userMemory>(input, { facts: memory.list() });
}
