/**
 * The offline demo model's conversation for the example `helpdesk` agent (agents/helpdesk): a scripted
 * customer-support exchange that reads like a real model's (search the policy and look up the order,
 * refund it once a person approves, say what happens next), so the demo shows the whole path.
 */
import { readToolResult } from '../src/tool-result-kinds';
import { reply, turnOf, type ModelRequest, type Reply } from './scripted-chat-completions';

/** The customer's request the script answers: the demo's, and the one to try with an offline worker. */
export const SAMPLE_REQUEST = "My order 1042 still hasn't arrived and it was due on the 12th. Can I get my money back?";

/** The helpdesk's tools: a request that offers all of them is the helpdesk's. */
const HELPDESK_TOOLS = ['search_knowledge_base', 'lookup_order', 'issue_refund'];

/** Whether `request` comes from the helpdesk agent (it offers the helpdesk's tools). */
export function isHelpdeskRequest(request: ModelRequest): boolean {
  const offered = new Set(request.tools?.map((tool) => tool.function.name));
  return HELPDESK_TOOLS.every((name) => offered.has(name));
}

/** A text answer streamed a word at a time, as a real model writes: the demo shows it appear. */
export function spoken(text: string, usage: { input: number; output: number }): Reply {
  return reply.streamed(text.split(/(?<= )/), { everyMs: 40, usage });
}

/** The helpdesk's next step: search and look up, then the refund, then the answer its outcome calls for. */
export function helpdeskReply(request: ModelRequest): Reply {
  const toolSaid = (text: string) =>
    request.messages.some((message) => message.role === 'tool' && message.content.includes(text));
  // A denial in the run's words (or, recorded before, its JSON).
  const denied = request.messages.some(
    (message) => message.role === 'tool' && readToolResult(message.content).kind === 'denied',
  );
  switch (turnOf(request)) {
    case 0:
      return reply.tools(
        [
          { name: 'search_knowledge_base', args: { query: 'delayed parcel refund' } },
          { name: 'lookup_order', args: { orderId: '1042' } },
        ],
        { input: 420, output: 48 },
      );
    case 1:
      return reply.tools(
        [
          {
            name: 'issue_refund',
            args: { orderId: '1042', amountUsd: 129, reason: 'parcel delayed past its estimated delivery date' },
          },
        ],
        { input: 910, output: 36 },
      );
    default:
      if (toolSaid('"status":"issued"'))
        return spoken(
          'Order 1042 is delayed past its estimated delivery, so I have refunded the full $129 to your original payment method. It should appear within 5 business days.',
          { input: 1080, output: 41 },
        );
      if (denied)
        return spoken('I could not issue the refund for order 1042 right now; a colleague will follow up with you.', {
          input: 1060,
          output: 25,
        });
      return spoken('Order 1042 is delayed. You can choose a refund or a reshipment.', { input: 1000, output: 20 });
  }
}
