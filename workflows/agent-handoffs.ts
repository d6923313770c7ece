/**
 * Handoffs: a model answer that calls `transfer_to_<agent>` hands the run to that agent, which goes on
 * with the conversation so far in the same workflow: its instructions replace the system prompt, and
 * its tools, model and approval policy apply from the next step (docs/handoffs.md). Its spec is
 * resolved by the spec activity, so history holds it, and a continuation carries it (`handedTo`).
 *
 * The rules: an answer that asks for a transfer runs none of its other tool calls (only its first
 * transfer counts); one turn may make `MAX_HANDOFFS_PER_TURN` transfers, so agents cannot pass the
 * conversation back and forth without end; the run's limits stay its own, counting every agent's
 * steps and usage. A transfer that cannot be made is a tool error the agent in charge reads.
 */
import { isCancellation, log } from '@temporalio/workflow';
import { z } from 'zod';
import { Bounds, MAX_HANDOFFS_PER_TURN } from '../src/defaults';
import { describeFailure } from '../src/failures';
import type { AgentSpec, ChatMessage, HandoffSpec, ToolCall } from '../src/types';
import { describeIssues, utf8Bytes } from '../src/validation';
import { resolveSpecWhereRegistered } from './activities';
import { costBudgetPrice } from './budget';
import { hasPatch, Patch } from './patch-checks';
import { listMcpToolsForTurn, setUpAgent, type RunSetup } from './run-setup';
import type { RunState } from './run-state';
import { notRunMessage, overCapNotRun, parseArguments, toolErrorMessage, toolMessage } from './tool-messages';

/** What the model that asked for the transfer reads, and the agent taking over after it. */
function transferredText(from: string, to: string): string {
  return `Transferred: "${from}" handed the conversation to "${to}", which takes it over from here.`;
}
const TRANSFERRED = /^Transferred: "[^"]+" handed the conversation to "[^"]+", which takes it over from here\./;

/** The handoffs made in `turnSoFar` (the turn's messages), read from its transcript, which a continuation carries. */
function transfersIn(turnSoFar: readonly ChatMessage[]): number {
  return turnSoFar.filter((message) => message.role === 'tool' && TRANSFERRED.test(message.content)).length;
}

/** A transfer's arguments: an optional reason, bounded (the model's words go to the next agent). */
function parseTransferArguments(raw: string): { ok: true; reason?: string } | { ok: false; error: string } {
  const parsed = parseArguments(raw);
  if (!parsed.ok) return parsed;
  const checked = z
    .object({
      reason: z
        .string()
        .refine((reason) => utf8Bytes(reason) <= Bounds.handoffReasonBytes, {
          message: `at most ${Bounds.handoffReasonBytes} bytes`,
        })
        .optional(),
    })
    .safeParse(parsed.args);
  return checked.success
    ? { ok: true, reason: checked.data.reason }
    : { ok: false, error: describeIssues(checked.error) };
}

export class AgentHandoffs {
  constructor(
    private readonly run: RunState,
    private readonly setup: RunSetup,
  ) {}

  /**
   * The tool messages of an answer that asks for a transfer (its calls `calls`, of which `cap` may run),
   * once the transfer is made if it can be; undefined for any other answer, which runs its tools. That
   * undefined comes at once, not as a promise: an await more before its tools are scheduled would put
   * other commands of the activation (a child's signal to its parent) before them, unlike its history.
   */
  transfer(calls: ToolCall[], cap: number, turnSoFar: readonly ChatMessage[]): Promise<ChatMessage[]> | undefined {
    const handoffs = this.setup.spec.handoffs;
    if (!handoffs?.length) return undefined;
    const asked = calls.slice(0, cap).find((call) => handoffs.some(({ tool }) => tool === call.function.name));
    if (!asked) return undefined;
    const target = handoffs.find(({ tool }) => tool === asked.function.name)!;
    return this.transferAnswer(calls, cap, asked, target, turnSoFar);
  }

  /** The answer's tool messages: the transfer `asked` (to `target`) made or refused, its other calls not run. */
  private async transferAnswer(
    calls: ToolCall[],
    cap: number,
    asked: ToolCall,
    target: HandoffSpec,
    turnSoFar: readonly ChatMessage[],
  ): Promise<ChatMessage[]> {
    const outcome = await this.handOver(asked, target, turnSoFar);
    const why = `this answer also asked to transfer the conversation (${asked.function.name}), so none of its other calls ran.`;
    return calls.map((call, index) => {
      if (call === asked) return outcome;
      return index < cap ? notRunMessage(call.id, why) : overCapNotRun(call.id, cap, calls.length);
    });
  }

  /** Hands the run to `target` (asked for by `call`); the message the model reads about it, an error if refused. */
  private async handOver(call: ToolCall, target: HandoffSpec, turnSoFar: readonly ChatMessage[]): Promise<ChatMessage> {
    const refuse = (why: string) => toolErrorMessage(call.id, `Not transferred to "${target.agent}": ${why}`);
    const args = parseTransferArguments(call.function.arguments);
    if (!args.ok) return refuse(`invalid arguments: ${args.error}`);
    if (transfersIn(turnSoFar) >= MAX_HANDOFFS_PER_TURN) {
      return refuse(
        `this turn has already changed agents ${MAX_HANDOFFS_PER_TURN} times, the most one turn may. Answer yourself.`,
      );
    }
    let resolved: AgentSpec;
    try {
      // A worker without the new agent (a mixed fleet) leaves its resolution to one that registers it,
      // for UNKNOWN_AGENT_WAIT_SECONDS from now.
      resolved = await resolveSpecWhereRegistered({ agent: target.agent, runStartedAtMs: Date.now() }, () =>
        hasPatch(this.setup.spec, Patch.callsReachRegisteringWorkers),
      );
    } catch (error) {
      if (isCancellation(error)) throw error;
      return refuse(describeFailure(error).message);
    }
    // The run keeps the workflow changes it started with, whichever worker resolved the new agent.
    const spec: AgentSpec = { ...resolved, patches: this.setup.spec.patches };
    const from = this.setup.spec.name;
    if (costBudgetPrice(spec, this.setup.limits) === 'unpriced') {
      return refuse(`the run has a cost budget, and a model of "${spec.name}" has no price (MODEL_PRICES).`);
    }
    await this.actAs(spec);
    log.info('handed the run to another agent', { from, to: spec.name, reason: args.reason });
    const reason = args.reason === undefined ? '' : ` Reason given: ${JSON.stringify(args.reason)}`;
    return toolMessage(call.id, `${transferredText(from, spec.name)}${reason}`);
  }

  /**
   * From now on the run acts as the agent of `spec`: its prompt, tools (its MCP servers' listed now),
   * model and memory; the run's budget, repriced.
   */
  private async actAs(spec: AgentSpec): Promise<void> {
    const { run, setup } = this;
    Object.assign(setup, setUpAgent(run, spec, setup.limits, setup.budget.memory()));
    setup.transcripts.follow(spec);
    run.handedTo = spec;
    const [first] = run.messages;
    if (first?.role === 'system') run.messages[0] = { role: 'system', content: spec.instructions };
    await listMcpToolsForTurn(setup);
  }
}
