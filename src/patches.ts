/**
 * Every `patched()` id of the workflow, in one place: each names a change of the command sequence
 * that runs started before it must not see (their histories replay the code they started with).
 * Plain data, so the spec's resolution (an activity) can list them too.
 */
export const Patch = {
  /** A session waiting for input wakes to continue as new when history grows (before: it waited out the idle timeout). */
  idleWaitWakesForContinueAsNew: 'idle-wait-wakes-for-continue-as-new',
  /** Tool calls carry the chain's first run id, so a run reusing a workflow id gets new idempotency keys. */
  idempotencyKeyPerRunChain: 'idempotency-key-per-run-chain',
  /** Stuck-loop detection, wrap-up calls, the tool-call cap, the empty-answer limit, the unpriced cost check. */
  loopGuards: 'loop-guards-and-wrap-ups',
  /** A session answers the messages queued before `end` (before: it ended at once). */
  answerMessagesQueuedBeforeEnd: 'answer-messages-queued-before-end',
  /** Model calls carry what changed since the previous call and a fingerprint (before: the whole transcript). */
  transcriptByReference: 'transcript-by-reference',
  /** A run whose history grew long continues as new between two steps of a turn (before: only between turns). */
  continueAsNewMidTurn: 'continue-as-new-mid-turn',
  /** A run waiting for approvals continues as new when its history grows long, the waits carried over. */
  continueAsNewAwaitingApproval: 'continue-as-new-awaiting-approval',
  /** The spec is resolved by a local activity on the worker running the run (before: a regular activity). */
  localSpecResolution: 'local-spec-resolution',
  /**
   * Model calls are spent at the prices the run recorded at its start, the ones its cost budget
   * estimates with (before: at the prices of whichever worker ran the call).
   */
  spendAtRecordedPrices: 'spend-at-recorded-prices',
  /** A run handed carried state proves, from its own history, that it is its predecessor's continue-as-new. */
  provenContinuation: 'proven-continuation',
  /**
   * A call that a worker without its tool failed `ToolNotRegistered` is scheduled again, for a worker
   * that registers it, within that worker's `UNKNOWN_AGENT_WAIT_SECONDS` (before: the call failed at once).
   */
  toolCallsWaitForRegisteringWorker: 'tool-calls-wait-for-registering-worker',
  /**
   * An approval may carry edited arguments, checked by an activity in the update's handler, and the
   * model reads an approval's note and edits with the tool's result (before: neither).
   */
  approvalEdits: 'approval-edits-and-notes',
  /**
   * The last model a call may try, once its attempts are spent on an outage, is tried again with
   * backoff until `MODEL_UNAVAILABLE_SECONDS`; output the server could not parse is asked for again a
   * few times, then the step asks for an answer without tools (before: both failed the run).
   */
  modelOutagesByTime: 'model-outages-by-time',
  /**
   * A request the server refuses as past the model's context window is shortened (summarised, or
   * its old tool results omitted) and sent once more (before: the run failed `ModelBadRequest`).
   */
  contextExceededCompacts: 'context-exceeded-compacts',
  /**
   * A model call retried on a time budget (429s, an outage) whose next backoff would pass the budget
   * waits until the budget's end and tries once more there (before: it gave up at once, so a slow
   * machine could give up an outage after 4 s of a 6 s `MODEL_UNAVAILABLE_SECONDS`).
   */
  retriesUseWholeBudget: 'retries-use-whole-budget',
  /**
   * The `steer` update: a message that joins the turn in progress at its next step. Read from the
   * spec only (runs started before it refuse a steer); never asked of `patched()`.
   */
  steering: 'steering',
  /**
   * A session turn whose model is stuck in a loop ends that turn, its notice the reply, and the session
   * waits for the next message (before: the whole session ended `stuck`).
   */
  stuckSessionTurnEndsTurn: 'stuck-session-turn-ends-turn',
  /**
   * A run cancelled before it started (the cancel came with its first task, ahead of the spec's
   * resolution or the continuation's proof) ends `cancelled` (before: `failed`, the cancellation
   * wrapped as the run's failure). Asked of `patched()` on that path only: it comes before the spec.
   */
  cancelledAtStart: 'cancelled-at-start',
  /**
   * In a mixed fleet, a worker running a run whose agent it does not register sends on what it cannot
   * do: a local tool call it fails `ToolNotRegistered` is made again as a regular activity, for a
   * worker of the queue that registers the tool, and a handoff's agent is resolved by one that
   * registers it (before: the tool went back to the model as failed, the handoff was refused).
   */
  callsReachRegisteringWorkers: 'calls-reach-registering-workers',
  /**
   * A sub-agent that fails counts in its parent's usage with all it spent, read from its failure
   * (before: with what it last reported, which misses the model call of the task that failed it).
   * Read from the spec only: the parent's command sequence does not change, its budget's arithmetic does.
   */
  failedSubAgentUsage: 'failed-sub-agent-usage',
  /**
   * A decision made on a run about a call in a sub-agent counts only once that sub-agent's run took it:
   * it is made there by its `approval` update (an activity), and this run's update fails with that
   * run's refusal (before: sent down by signal, and answered as decided even when the sub-agent's run
   * ignored it, the call decided there meanwhile).
   */
  forwardedDecisionsConfirmed: 'forwarded-decisions-confirmed',
} as const;
export type PatchId = (typeof Patch)[keyof typeof Patch];

/**
 * The changes a run started now has from its start, recorded in its spec (`AgentSpec.patches`): all
 * but those that come before the spec (its own resolution, and the proof that carried state, spec
 * included, is genuine).
 */
export const PATCHES_IN_SPEC: readonly PatchId[] = Object.values(Patch).filter(
  (id) => id !== Patch.localSpecResolution && id !== Patch.provenContinuation && id !== Patch.cancelledAtStart,
);

/**
 * The changes a spec lists when the run's code sent none with its request: the code that first handed
 * the resolution to another worker knew these (and sent no list). A spec lists only changes the code
 * running the run knows, or its replay on later code would take their paths where it did not.
 */
export const PATCHES_OF_UNLISTED_HANDOVERS: readonly PatchId[] = [
  Patch.idleWaitWakesForContinueAsNew,
  Patch.idempotencyKeyPerRunChain,
  Patch.loopGuards,
  Patch.answerMessagesQueuedBeforeEnd,
  Patch.transcriptByReference,
  Patch.continueAsNewMidTurn,
  Patch.continueAsNewAwaitingApproval,
  Patch.spendAtRecordedPrices,
  Patch.toolCallsWaitForRegisteringWorker,
  Patch.approvalEdits,
  Patch.modelOutagesByTime,
  Patch.contextExceededCompacts,
  Patch.retriesUseWholeBudget,
  Patch.steering,
  Patch.stuckSessionTurnEndsTurn,
];

/**
 * The changes of `PATCHES_IN_SPEC` that the code running a run knows too (`known`: the ids it sent;
 * anything but a list, as none).
 */
export function patchesKnownTo(known: unknown): PatchId[] {
  const runnerKnows: readonly unknown[] = Array.isArray(known) ? known : PATCHES_OF_UNLISTED_HANDOVERS;
  return PATCHES_IN_SPEC.filter((id) => runnerKnows.includes(id));
}
