/**
 * The offline demo model's answers (issue #23): the arguments it makes up from a tool's JSON schema
 * (as the model receives it) pass the tool's own validation; it calls an agent's tools, then answers
 * with what they returned, labelled; the helpdesk keeps its scripted conversation; same request, same
 * answer.
 */
import { z } from 'zod';
import { defineTool } from '../../src';
import { toolParameters } from '../../src/spec';
import { SUMMARY_INSTRUCTIONS } from '../../src/summaries';
import type { ChatMessage } from '../../src/types';
import { OFFLINE_ANSWER_LABEL, offlineReply } from '../../runtime/offline-model';
import type { ModelRequest, Reply } from '../../runtime/scripted-chat-completions';
import { argumentsFor } from '../../runtime/schema-arguments';

/** A tool as the model receives it: its zod input exported to JSON schema by the worker's own code. */
function offered(name: string, input: z.ZodType) {
  const tool = defineTool({ name, description: `The ${name} tool`, input: input as never, execute: () => null });
  return {
    type: 'function' as const,
    function: { name, description: tool.description, parameters: toolParameters(tool) },
  };
}

function request(messages: ChatMessage[], tools?: ReturnType<typeof offered>[]): ModelRequest {
  return { model: 'offline-demo-model', messages, tools, headers: {}, receivedAt: 0, stream: true };
}

const made = (input: z.ZodType, userMessage = 'Weather in Lisbon?') =>
  argumentsFor(offered('tool', input).function.parameters, { userMessage });

type Message = Extract<Reply, { kind: 'message' }>;

describe('the arguments the offline model makes up', () => {
  const tree: z.ZodType = z.object({
    label: z.string(),
    get children() {
      return z.array(tree).optional();
    },
  });
  const everything = z.object({
    city: z.string(),
    query: z.string().min(2).max(10),
    orderId: z.string().regex(/^\d{4}$/),
    code: z.string().regex(/^[A-Z]{2}-\d{4}$/),
    tag: z.string().startsWith('ab').endsWith('z'),
    email: z.email(),
    url: z.url(),
    id: z.uuid(),
    day: z.iso.date(),
    at: z.iso.datetime(),
    time: z.iso.time(),
    cuid: z.cuid(),
    nano: z.nanoid(),
    ip: z.ipv4(),
    exact: z.string().length(3),
    count: z.number().int().positive().multipleOf(5),
    ratio: z.number().gt(2).lt(10),
    latitude: z.number().min(-90).max(90),
    cabin: z.enum(['economy', 'business']),
    one: z.literal(3),
    nullable: z.string().nullable(),
    either: z.union([z.string(), z.number()]),
    shape: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('circle'), radius: z.number().positive() }),
      z.object({ kind: z.literal('square'), side: z.number() }),
    ]),
    list: z.array(z.string()).min(2),
    pair: z.tuple([z.string(), z.number()]),
    scores: z.record(z.string(), z.number()),
    both: z.intersection(z.object({ a: z.string() }), z.object({ b: z.number() })),
    travellers: z
      .array(z.object({ name: z.string(), email: z.email() }))
      .min(1)
      .max(4),
    tree,
    flag: z.boolean(),
    anything: z.unknown(),
    optional: z.string().optional(),
    defaulted: z.number().default(3),
  });

  it('pass the schema they were made from: formats, patterns, lengths, bounds, unions, nesting, recursion', () => {
    const args = made(everything);
    expect(everything.safeParse(args)).toMatchObject({ success: true });
    // Required properties only.
    expect(Object.keys(args)).not.toContain('optional');
    expect(Object.keys(args)).not.toContain('defaulted');
  });

  it('suit the property names where that is cheap, and stay the same for the same schema and message', () => {
    const args = made(everything);
    expect(args).toMatchObject({
      city: 'Lisbon',
      query: 'Weather in',
      orderId: '1042',
      code: 'AA-0000',
      email: 'ada@example.com',
      latitude: 38.72,
      cabin: 'economy',
      travellers: [{ name: 'Ada Lovelace', email: 'ada@example.com' }],
    });
    expect(made(everything)).toEqual(args);
  });
});

describe('the offline model', () => {
  const forecast = offered('forecast', z.object({ city: z.string() }));
  const book = offered('book', z.object({ flightId: z.string().regex(/^[A-Z]{2}\d{3}$/) }));
  const remember = offered('remember', z.object({ fact: z.string() }));
  const user: ChatMessage = { role: 'user', content: 'Weather in Lisbon?' };

  it("calls each of the agent's tools (memory's aside) with made-up arguments, the same for the same request", () => {
    const first = offlineReply(request([{ role: 'system', content: 'Be brief.' }, user], [forecast, book, remember]));
    expect(first).toMatchObject({
      kind: 'message',
      content: null,
      toolCalls: [
        { id: 'call_offline_0_0', name: 'forecast', args: { city: 'Lisbon' } },
        { id: 'call_offline_0_1', name: 'book', args: { flightId: 'AA000' } },
      ],
    });
    expect(offlineReply(request([{ role: 'system', content: 'Be brief.' }, user], [forecast, book, remember]))).toEqual(
      first,
    );
  });

  it('answers with what the tools returned, labelled and streamed a word at a time; a denial with its note', () => {
    const messages: ChatMessage[] = [
      user,
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'a', type: 'function', function: { name: 'forecast', arguments: '{"city":"Lisbon"}' } },
          { id: 'b', type: 'function', function: { name: 'book', arguments: '{"flightId":"AA000"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'a', content: '{"city":"Lisbon","sky":"sunny"}' },
      { role: 'tool', tool_call_id: 'b', content: '{"denied":true,"error":"A person denied this call.","note":"no"}' },
    ];
    const approved = offlineReply(
      request(
        [
          ...messages.slice(0, 2),
          {
            role: 'tool',
            tool_call_id: 'a',
            content: '{"approval":{"approved":true,"note":"ok"},"result":{"sky":"sunny"}}',
          },
        ],
        [forecast, book],
      ),
    ) as Message;
    expect(approved.content).toBe(`${OFFLINE_ANSWER_LABEL} forecast returned {"sky":"sunny"} (approved: "ok").`);

    const answer = offlineReply(request(messages, [forecast, book])) as Message;
    const text = `${OFFLINE_ANSWER_LABEL} forecast returned {"city":"Lisbon","sky":"sunny"}; book did not run: a person denied it ("no").`;
    expect(answer.content).toBe(text);
    expect(answer.streaming?.pieces.join('')).toBe(text);
    expect(answer.streaming?.pieces.length).toBe(text.split(' ').length);
    expect(offlineReply(request(messages, [forecast, book]))).toEqual(answer);

    // A later message gets an answer, not the same calls again (the loop guard would stop a repeat).
    const later = offlineReply(
      request([...messages, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'Thanks!' }], [forecast]),
    ) as Message;
    expect(later.toolCalls).toBeUndefined();
    expect(later.content).toMatch(/^Offline demo model .*you said "Thanks!"\. .*forecast returned \{"city":"Lisbon"/);
  });

  it('says so when an agent has no tools, and summarises when a run asks for a summary', () => {
    expect((offlineReply(request([user])) as Message).content).toBe(
      `${OFFLINE_ANSWER_LABEL} you said "Weather in Lisbon?", and this agent has no tools for me to call.`,
    );
    const summary = offlineReply(request([{ role: 'system', content: SUMMARY_INSTRUCTIONS }, user])) as Message;
    expect(summary.content).toMatch(/^Offline demo model /);
  });

  it('holds a wrap-up call to what it asks, as OpenAI does: no tool call, the text within its cap', () => {
    const wrapUp = (tools: ReturnType<typeof offered>[], cap?: number): ModelRequest => ({
      ...request([user, { role: 'user', content: 'This is your last reply and no tool will run.' }], tools),
      body: { tool_choice: 'none', ...(cap && { max_completion_tokens: cap }) },
      ...(cap && { maxCompletionTokens: cap }),
    });
    const answer = offlineReply(wrapUp([forecast, book])) as Message;
    expect(answer.toolCalls).toBeUndefined();
    expect(answer.content).toMatch(/^Offline demo model .*you said "This is your last reply/);

    const capped = offlineReply(wrapUp([forecast, book], 5)) as Message & { cut?: boolean };
    expect(capped).toMatchObject({ cut: true, usage: { output: 5 } });
    expect(capped.content).toBe(answer.content!.slice(0, 20));

    const helpdesk = ['search_knowledge_base', 'lookup_order'].map((name) =>
      offered(name, z.object({ orderId: z.string() })),
    );
    expect((offlineReply(wrapUp(helpdesk)) as Message).toolCalls).toBeUndefined();
  });

  it("plays the helpdesk's scripted conversation for the helpdesk's tools", () => {
    const helpdesk = ['search_knowledge_base', 'lookup_order', 'issue_refund'].map((name) =>
      offered(name, z.object({ orderId: z.string() })),
    );
    expect(offlineReply(request([user], helpdesk))).toMatchObject({
      toolCalls: [
        { name: 'search_knowledge_base', args: { query: 'delayed parcel refund' } },
        { name: 'lookup_order', args: { orderId: '1042' } },
      ],
    });
  });
});
