/**
 * Usage accounting and budgets. A budget is not spent on work that leaves nothing to show: when the
 * next step might not leave room for a last answer, the run makes its wrap-up call instead (a model
 * call without tools that answers from what the run has), capped to what is left.
 */
import type { ModelCallResult } from '../activities';
import { addBilledParts } from '../src/pricing';
import { LimitName, type AgentSpec, type Budgets, type Limits, type Usage } from '../src/types';

export const ZERO_USAGE: Usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0, costKnown: true };

/**
 * `usage` with `response` added. Estimated usage (an endpoint that reports none) counts like any
 * other, so budgets hold, and marks the sum (and its model's) `estimated`; only then, so usage
 * without estimates reads as it always did.
 */
export function addUsage(usage: Usage, response: ModelCallResult): Usage {
  const tokens = response.inputTokens + response.outputTokens;
  const model = usage.byModel?.[response.model];
  return {
    inputTokens: usage.inputTokens + response.inputTokens,
    outputTokens: usage.outputTokens + response.outputTokens,
    totalTokens: usage.totalTokens + tokens,
    ...addBilledParts(usage, response),
    costUsd: usage.costUsd + response.costUsd,
    costKnown: usage.costKnown && response.costKnown,
    ...((usage.estimated || response.usageEstimated) && { estimated: true as const }),
    byModel: {
      ...usage.byModel,
      [response.model]: {
        calls: (model?.calls ?? 0) + 1,
        inputTokens: (model?.inputTokens ?? 0) + response.inputTokens,
        outputTokens: (model?.outputTokens ?? 0) + response.outputTokens,
        totalTokens: (model?.totalTokens ?? 0) + tokens,
        ...addBilledParts(model, response),
        costUsd: (model?.costUsd ?? 0) + response.costUsd,
        ...((model?.estimated || response.usageEstimated) && { estimated: true as const }),
      },
    },
  };
}

/** `a` and `b` added up: the usage of a run and of its sub-agents' runs, as one tree's. */
export function sumUsage(a: Usage, b: Usage): Usage {
  const byModel = { ...a.byModel };
  for (const [model, used] of Object.entries(b.byModel ?? {})) {
    const mine = byModel[model];
    byModel[model] = mine
      ? {
          calls: mine.calls + used.calls,
          inputTokens: mine.inputTokens + used.inputTokens,
          outputTokens: mine.outputTokens + used.outputTokens,
          totalTokens: mine.totalTokens + used.totalTokens,
          ...addBilledParts(mine, used),
          costUsd: mine.costUsd + used.costUsd,
          ...((mine.estimated || used.estimated) && { estimated: true as const }),
        }
      : used;
  }
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    totalTokens: a.totalTokens + b.totalTokens,
    ...addBilledParts(a, b),
    costUsd: a.costUsd + b.costUsd,
    costKnown: a.costKnown && b.costKnown,
    ...((a.estimated || b.estimated) && { estimated: true as const }),
    ...((a.byModel || b.byModel) && { byModel }),
  };
}

/** The budgets among `limits` (without the guards and the lifetime budgets). */
export function budgetsOf(limits: Limits): Budgets {
  return Object.fromEntries(
    Object.values(LimitName).flatMap((name) => (limits[name] === undefined ? [] : [[name, limits[name]]])),
  );
}

/** Per token, the highest price among the models a run may call, for its cost budget: `unpriced` if one has none. */
export function costBudgetPrice(
  spec: AgentSpec,
  limits: Limits,
): { perInput: number; perOutput: number } | 'unpriced' | undefined {
  if (limits.maxCostUsd === undefined && limits.lifetime?.maxCostUsd === undefined) return undefined;
  const prices = [spec.model, ...(spec.fallbackModels ?? [])].map((model) =>
    spec.prices && Object.hasOwn(spec.prices, model) ? spec.prices[model] : undefined,
  );
  if (prices.some((price) => price === undefined)) return 'unpriced';
  return {
    perInput: Math.max(...prices.map((price) => price!.inputPerMillion)) / 1_000_000,
    perOutput: Math.max(...prices.map((price) => price!.outputPerMillion)) / 1_000_000,
  };
}

/** What a stretch of the run (a turn, or the run's whole life) has spent since `startedAtMs`. */
export interface Spent {
  steps: number;
  usage: Usage;
  startedAtMs: number;
}

/** The first budget already spent; undefined while all hold. */
export function exceededLimit(limits: Budgets, spent: Spent, nowMs: number): LimitName | undefined {
  const checks: [LimitName, number][] = [
    [LimitName.maxSteps, spent.steps],
    [LimitName.maxTokens, spent.usage.totalTokens],
    [LimitName.maxCostUsd, spent.usage.costUsd],
    [LimitName.maxDurationSeconds, (nowMs - spent.startedAtMs) / 1000],
  ];
  return checks.find(([name, value]) => limits[name] !== undefined && value >= limits[name])?.[0];
}

/** A budget that ends a turn (or a task run): `lifetime` when it is one of a session's lifetime budgets. */
export interface SpentLimit {
  limit: LimitName;
  lifetime: boolean;
}

/** What a `Budget` learned, handed from a run to its continuation. */
export interface BudgetMemory {
  turnStart: Spent;
  lastCall?: { inputTokens: number; requestBytes: number };
  longestOutput: number;
  largestGrowth: number;
  slowestCallMs: number;
}

/** What the next model call may be. `deadlineMs` (workflow time) bounds its work when time is budgeted. */
export type BudgetDecision =
  /** An ordinary step; `maxOutputTokens` keeps room for a wrap-up after it when tokens or cost are budgeted. */
  | { next: 'call'; maxOutputTokens?: number; deadlineMs?: number }
  /** The last call the budget allows: no tools, answer from what the run has. */
  | ({ next: 'wrapUp'; maxOutputTokens?: number; deadlineMs?: number } & SpentLimit)
  /** Not even a wrap-up fits. */
  | ({ next: 'stop' } & SpentLimit);

/** Bytes of JSON per token, on the low side (English runs about 4), so estimates err towards caution. */
const BYTES_PER_TOKEN = 3;
/** Bytes of JSON per token at the most: fewer tokens than this for a request's size are not believed. */
const MOST_BYTES_PER_TOKEN = 4;
/** The answer length assumed before the run has seen one. */
const FIRST_OUTPUT_TOKENS = 256;
/** What a sub-agent's answer is reckoned to add to its parent's next request, in tokens. */
const SUB_AGENT_ANSWER_TOKENS = 512;
/** A wrap-up shorter than this could not say anything useful. */
const MIN_WRAP_UP_TOKENS = 32;
/** The time kept for the wrap-up before the run has timed a model call. */
const FIRST_WRAP_UP_MS = 5_000;

/** Tokens of one model call, estimated. */
interface Estimate {
  input: number;
  output: number;
}

/** A budget counted in tokens (or in dollars, `perInput`/`perOutput` per token), with `left` to spend. */
interface TokenBudget {
  limit: LimitName;
  left: number;
  perInput: number;
  perOutput: number;
}

type Verdict = { next: 'call'; cap: number; wrapCap: number } | { next: 'wrapUp'; wrapCap: number } | { next: 'stop' };

/** Whether a normal call and the wrap-up after it fit `budget`, or only a wrap-up, or nothing. */
function judge(budget: TokenBudget, call: Estimate, after: Estimate): Verdict {
  const { left, perInput, perOutput } = budget;
  if (perOutput <= 0) {
    // Free output (a model priced for input only): only the inputs are spent.
    if (left < call.input * perInput) return { next: 'stop' };
    const next = left >= (call.input + after.input) * perInput ? 'call' : 'wrapUp';
    return { next, cap: Infinity, wrapCap: Infinity };
  }
  const wrapCap = Math.floor((left - call.input * perInput) / perOutput);
  if (wrapCap < MIN_WRAP_UP_TOKENS) return { next: 'stop' };
  const cap = Math.floor(
    (left - after.input * perInput - after.output * perOutput - call.input * perInput) / perOutput,
  );
  return cap >= call.output ? { next: 'call', cap, wrapCap } : { next: 'wrapUp', wrapCap };
}

/**
 * The budgets of one run: those of the current turn (the whole run, for a task) and of its lifetime,
 * and what the run has learned about its model calls (tokens in and out, latency) to estimate the next.
 */
export class Budget {
  private turnStart: Spent;
  private lastCall?: { inputTokens: number; requestBytes: number };
  private longestOutput: number;
  /** The most the input grew from one call to the next. */
  private largestGrowth: number;
  private slowestCallMs: number;

  constructor(
    private readonly turnLimits: Budgets,
    private readonly lifetimeLimits: Budgets,
    /** Per token, the highest price among the models the run may call; absent when none is priced. */
    private readonly price: { perInput: number; perOutput: number } | undefined,
    private readonly lifetime: () => Spent,
    /** What the run this one continues had learned (and where its turn started). */
    memory?: BudgetMemory,
  ) {
    this.turnStart = memory?.turnStart ?? { steps: 0, usage: ZERO_USAGE, startedAtMs: lifetime().startedAtMs };
    this.lastCall = memory?.lastCall;
    this.longestOutput = memory?.longestOutput ?? 0;
    this.largestGrowth = memory?.largestGrowth ?? 0;
    this.slowestCallMs = memory?.slowestCallMs ?? 0;
  }

  /** Everything this budget has learned, as plain JSON, for a continuation to go on from. */
  memory(): BudgetMemory {
    return {
      turnStart: this.turnStart,
      ...(this.lastCall && { lastCall: this.lastCall }),
      longestOutput: this.longestOutput,
      largestGrowth: this.largestGrowth,
      slowestCallMs: this.slowestCallMs,
    };
  }

  /** A session's turn starts with nothing spent; a task's one turn is its whole life. */
  startTurn(nowMs: number): void {
    this.turnStart = { ...this.lifetime(), startedAtMs: nowMs };
  }

  /** Learns from a call over a request of `requestBytes` that took `latencyMs`. */
  record(response: ModelCallResult, requestBytes: number, latencyMs: number): void {
    if (this.lastCall) {
      this.largestGrowth = Math.max(this.largestGrowth, response.inputTokens - this.lastCall.inputTokens);
    }
    this.lastCall = { inputTokens: response.inputTokens, requestBytes };
    this.longestOutput = Math.max(this.longestOutput, response.outputTokens);
    this.slowestCallMs = Math.max(this.slowestCallMs, latencyMs);
  }

  /** The rule of runs started before wrap-ups: stop once a budget is spent, checked before each call. */
  legacyDecision(nowMs: number): BudgetDecision {
    const limit = exceededLimit(this.turnLimits, this.lifetime(), nowMs);
    return limit ? { next: 'stop', limit, lifetime: false } : { next: 'call' };
  }

  /** What the next model call, over a request of `requestBytes`, may be. */
  decide(nowMs: number, requestBytes: number): BudgetDecision {
    const scopes = [
      { limits: this.turnLimits, spent: this.turnSpent(), lifetime: false },
      { limits: this.lifetimeLimits, spent: this.lifetime(), lifetime: true },
    ];
    for (const { limits, spent, lifetime } of scopes) {
      const limit = exceededLimit(limits, spent, nowMs);
      if (limit) return { next: 'stop', limit, lifetime };
    }
    const call = this.estimate(requestBytes);
    const after = { input: call.input + Math.max(this.largestGrowth, call.output), output: call.output };
    let wrapUp: SpentLimit | undefined;
    let cap = Infinity;
    let wrapCap = Infinity;
    let deadlineMs = Infinity;
    let deadlineIsLifetime = false;
    for (const { limits, spent, lifetime } of scopes) {
      if (limits.maxSteps !== undefined && limits.maxSteps - spent.steps === 1) {
        wrapUp ??= { limit: LimitName.maxSteps, lifetime };
      }
      for (const budget of this.tokenBudgets(limits, spent)) {
        const verdict = judge(budget, call, after);
        if (verdict.next === 'stop') return { next: 'stop', limit: budget.limit, lifetime };
        if (verdict.next === 'wrapUp') wrapUp ??= { limit: budget.limit, lifetime };
        else cap = Math.min(cap, verdict.cap);
        wrapCap = Math.min(wrapCap, verdict.wrapCap);
      }
      const deadline = spent.startedAtMs + (limits.maxDurationSeconds ?? Infinity) * 1000;
      if (deadline < deadlineMs) {
        deadlineMs = deadline;
        deadlineIsLifetime = lifetime;
      }
    }
    const workDeadlineMs = deadlineMs - this.wrapUpReserveMs();
    if (nowMs >= workDeadlineMs) wrapUp ??= { limit: LimitName.maxDurationSeconds, lifetime: deadlineIsLifetime };
    const bounded = <T extends object>(decision: T, tokens: number, until: number) => ({
      ...decision,
      ...(Number.isFinite(tokens) && { maxOutputTokens: tokens }),
      ...(Number.isFinite(until) && { deadlineMs: until }),
    });
    return wrapUp
      ? bounded({ next: 'wrapUp' as const, ...wrapUp }, wrapCap, deadlineMs)
      : bounded({ next: 'call' as const }, cap, workDeadlineMs);
  }

  /**
   * The input tokens of a request of `requestBytes`, estimated: the last reported count, corrected for
   * what was added since (at 3 bytes a token, erring high) or scaled down for what was taken out; from
   * bytes alone before any call reported its tokens.
   */
  inputTokensFor(requestBytes: number): number {
    const last = this.lastCall;
    if (!last || last.requestBytes <= 0) return Math.ceil(requestBytes / BYTES_PER_TOKEN);
    const grown = requestBytes - last.requestBytes;
    const estimate =
      grown >= 0 ? last.inputTokens + grown / BYTES_PER_TOKEN : (last.inputTokens * requestBytes) / last.requestBytes;
    // An endpoint that reports no usage (or too little) must not make a long transcript look short.
    return Math.ceil(Math.max(estimate, requestBytes / MOST_BYTES_PER_TOKEN));
  }

  /**
   * What sub-agents starting now (`calls` of them) may spend together, where tokens or cost are
   * budgeted: the least left in any scope, less what this run needs after their answers come back
   * (one more call over a request of `requestBytes` and their answers: its wrap-up).
   */
  leftForSubAgents(requestBytes: number, calls: number): { maxTokens?: number; maxCostUsd?: number } {
    const wrapUp = {
      input: this.inputTokensFor(requestBytes) + calls * SUB_AGENT_ANSWER_TOKENS,
      output: this.longestOutput || FIRST_OUTPUT_TOKENS,
    };
    const left: { maxTokens?: number; maxCostUsd?: number } = {};
    const scopes = [
      { limits: this.turnLimits, spent: this.turnSpent() },
      { limits: this.lifetimeLimits, spent: this.lifetime() },
    ];
    for (const { limits, spent } of scopes) {
      for (const budget of this.tokenBudgets(limits, spent)) {
        const name = budget.limit as 'maxTokens' | 'maxCostUsd';
        const after = budget.left - wrapUp.input * budget.perInput - wrapUp.output * budget.perOutput;
        left[name] = Math.min(left[name] ?? Infinity, Math.max(0, after));
      }
    }
    return left;
  }

  /** When a session's lifetime time budget runs out (workflow time), if it has one. */
  lifetimeDeadlineMs(): number | undefined {
    const seconds = this.lifetimeLimits.maxDurationSeconds;
    return seconds === undefined ? undefined : this.lifetime().startedAtMs + seconds * 1000;
  }

  private turnSpent(): Spent {
    const now = this.lifetime();
    const start = this.turnStart;
    return {
      steps: now.steps - start.steps,
      usage: {
        ...now.usage,
        inputTokens: now.usage.inputTokens - start.usage.inputTokens,
        outputTokens: now.usage.outputTokens - start.usage.outputTokens,
        totalTokens: now.usage.totalTokens - start.usage.totalTokens,
        costUsd: now.usage.costUsd - start.usage.costUsd,
      },
      startedAtMs: start.startedAtMs,
    };
  }

  private tokenBudgets(limits: Budgets, spent: Spent): TokenBudget[] {
    const budgets: TokenBudget[] = [];
    if (limits.maxTokens !== undefined) {
      budgets.push({
        limit: LimitName.maxTokens,
        left: limits.maxTokens - spent.usage.totalTokens,
        perInput: 1,
        perOutput: 1,
      });
    }
    if (limits.maxCostUsd !== undefined && this.price) {
      budgets.push({ limit: LimitName.maxCostUsd, left: limits.maxCostUsd - spent.usage.costUsd, ...this.price });
    }
    return budgets;
  }

  /** Time kept for the wrap-up: the slowest call so far with a margin, at most half the shortest duration budget. */
  private wrapUpReserveMs(): number {
    const windowMs =
      Math.min(this.turnLimits.maxDurationSeconds ?? Infinity, this.lifetimeLimits.maxDurationSeconds ?? Infinity) *
      1000;
    const wanted = this.slowestCallMs ? this.slowestCallMs * 1.5 + 500 : FIRST_WRAP_UP_MS;
    return Math.min(wanted, windowMs / 2);
  }

  private estimate(requestBytes: number): Estimate {
    const added = this.lastCall ? Math.max(0, requestBytes - this.lastCall.requestBytes) : requestBytes;
    return {
      input: Math.ceil((this.lastCall?.inputTokens ?? 0) + added / BYTES_PER_TOKEN),
      output: this.longestOutput || FIRST_OUTPUT_TOKENS,
    };
  }
}
