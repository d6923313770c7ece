// A plug-in agent module for the handoff tests (test/integration/handoffs.test.ts) and the recorded
// histories (test/histories/record-handoffs.ts): `triage` hands billing questions to `billing`, which can
// hand them back; each has a tool of its own, and the script the scripted model follows.
import type { PluginApi } from '../../src';
import { reply, type ModelRequest, type Reply } from '../../testing';

export const TRIAGE_INSTRUCTIONS = 'You are triage: send billing questions to billing.';
export const BILLING_INSTRUCTIONS = 'You are billing: look invoices up and answer.';

/** The tools each agent's tool calls ran with, in order (tests in this process read them). */
export const toolCalls: { tool: string; args: unknown }[] = [];

export default ({ defineAgent, defineTool, z }: PluginApi) => {
  const billing = defineAgent({
    name: 'billing',
    description: 'Answers questions about invoices, payments and statements.',
    instructions: BILLING_INSTRUCTIONS,
    tools: [
      defineTool({
        name: 'lookup_invoice',
        description: 'An invoice by its number.',
        input: z.object({ invoice: z.string() }),
        execute: (args) => {
          toolCalls.push({ tool: 'lookup_invoice', args });
          return { invoice: args.invoice, amountUsd: 42, status: 'paid' };
        },
      }),
      defineTool({
        name: 'read_statement',
        description: 'One page of the customer statement.',
        input: z.object({ page: z.number().int().nonnegative() }),
        execute: (args) => {
          toolCalls.push({ tool: 'read_statement', args });
          return `page ${args.page}: ${String.fromCharCode(97 + (args.page % 26)).repeat(1_500)}`;
        },
      }),
    ],
    // By name: the registry resolves it when the worker starts.
    handoffs: ['triage'],
  });
  const triage = defineAgent({
    name: 'triage',
    description: 'Finds out what the customer needs and sends them to the right team.',
    instructions: TRIAGE_INSTRUCTIONS,
    tools: [
      defineTool({
        name: 'lookup_customer',
        description: 'A customer by email.',
        input: z.object({ email: z.string() }),
        execute: (args) => {
          toolCalls.push({ tool: 'lookup_customer', args });
          return { email: args.email, plan: 'pro' };
        },
      }),
    ],
    handoffs: [billing],
  });
  return [triage, billing];
};

/** Which agent a request is from, by its system prompt. */
export function actingAgent(request: ModelRequest): 'triage' | 'billing' | undefined {
  const prompt = request.messages[0]?.role === 'system' ? request.messages[0].content : '';
  return prompt === TRIAGE_INSTRUCTIONS ? 'triage' : prompt === BILLING_INSTRUCTIONS ? 'billing' : undefined;
}

/**
 * The model of both agents, by the message the turn answers: `invoice …` is transferred to billing,
 * which looks invoice 7 up and answers; `both …` transfers while also calling triage's tool;
 * `statement …` has billing read pages until the results say page 9; `ping-pong …` has each agent
 * transfer to the other, without end; anything else billing answers as itself, triage by echoing.
 */
export function handoffScript(request: ModelRequest): Reply {
  // The run's own notes to the model (a repetition warning) are user messages in brackets.
  const said =
    [...request.messages].reverse().find((message) => message.role === 'user' && !message.content.startsWith('['))
      ?.content ?? '';
  const last = request.messages.at(-1);
  const agent = actingAgent(request);
  if (said.startsWith('ping-pong')) {
    const to = agent === 'triage' ? 'billing' : 'triage';
    return reply.tools([{ name: `transfer_to_${to}`, args: {} }]);
  }
  if (agent === 'triage') {
    if (last?.role === 'tool') return reply.text(`triage: ${last.content.slice(0, 80)}`);
    if (said.startsWith('both')) {
      return reply.tools([
        { name: 'lookup_customer', args: { email: 'ada@example.com' } },
        { name: 'transfer_to_billing', args: { reason: 'an invoice question' } },
        { name: 'transfer_to_billing', args: {} },
      ]);
    }
    if (said.startsWith('invoice') || said.startsWith('statement')) {
      return reply.tools([{ name: 'transfer_to_billing', args: { reason: 'an invoice question' } }]);
    }
    return reply.text(`triage heard: ${said}`);
  }
  if (said.startsWith('statement')) {
    const pages = request.messages.filter(
      (message) => message.role === 'tool' && /^"?page \d+: /.test(message.content),
    );
    return pages.length < 10
      ? reply.tools([{ name: 'read_statement', args: { page: pages.length } }])
      : reply.text(`billing read ${pages.length} pages.`);
  }
  if (last?.role === 'tool' && last.content.includes('"invoice"')) return reply.text('billing: invoice 7 is paid.');
  if (last?.role === 'tool') return reply.tools([{ name: 'lookup_invoice', args: { invoice: '7' } }]);
  return reply.text(`billing heard: ${said}`);
}
