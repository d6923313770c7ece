import type { ChatMessage } from '../../src/types';
import { serializedBytes } from '../../src/validation';
import { compactTranscript, MessageSizes, OMITTED_RESULT, OMITTED_TURN } from '../../workflows/compaction';

const big = (label: string) => JSON.stringify({ label, data: 'x'.repeat(1_000) });

function transcript(results: number): ChatMessage[] {
  const messages: ChatMessage[] = [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'go' },
  ];
  for (let i = 1; i <= results; i++) {
    messages.push({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: `c${i}`, type: 'function', function: { name: 't', arguments: '{}' } }],
    });
    messages.push({ role: 'tool', tool_call_id: `c${i}`, content: big(`r${i}`) });
  }
  return messages;
}

const contents = (messages: ChatMessage[]) => messages.filter((m) => m.role === 'tool').map((m) => m.content as string);

describe('MessageSizes', () => {
  it("sizes a transcript as serializing it whole would, from each message's size measured once", () => {
    const sizes = new MessageSizes();
    const messages = transcript(3);
    messages.push({ role: 'user', content: 'Grüße, 你好 🙂' });
    for (const count of [0, 1, 2, messages.length]) {
      expect(sizes.total(messages.slice(0, count))).toBe(serializedBytes(messages.slice(0, count)));
    }
    // A message replaced by another object is measured anew; compaction never edits one in place.
    messages[1] = { role: 'user', content: OMITTED_TURN };
    expect(sizes.total(messages)).toBe(serializedBytes(messages));
  });
});

describe('compactTranscript', () => {
  it('leaves a transcript within the limit untouched', () => {
    const messages = transcript(3);
    const before = JSON.stringify(messages);
    expect(compactTranscript(messages, before.length).replaced).toBe(0);
    expect(JSON.stringify(messages)).toBe(before);
  });

  it('omits the oldest tool results first, just enough to fit', () => {
    const messages = transcript(5);
    const limit = JSON.stringify(messages).length - 1_500;
    expect(compactTranscript(messages, limit).replaced).toBe(2);
    expect(JSON.stringify(messages).length).toBeLessThanOrEqual(limit);
    expect(contents(messages).slice(0, 2)).toEqual([OMITTED_RESULT, OMITTED_RESULT]);
    expect(
      contents(messages)
        .slice(2)
        .map((c) => JSON.parse(c).label),
    ).toEqual(['r3', 'r4', 'r5']);
    // Tool-call ids stay paired with their calls, so the model API still accepts the transcript.
    expect(messages.filter((m) => m.role === 'tool').map((m) => (m as { tool_call_id: string }).tool_call_id)).toEqual([
      'c1',
      'c2',
      'c3',
      'c4',
      'c5',
    ]);
  });

  it('always keeps the newest result, even when that cannot reach the limit', () => {
    const messages = transcript(3);
    expect(compactTranscript(messages, 10).replaced).toBe(2);
    expect(JSON.parse(contents(messages)[2]).label).toBe('r3');
  });

  it('does not count results it omitted before', () => {
    const messages = transcript(4);
    compactTranscript(messages, JSON.stringify(messages).length - 500);
    expect(compactTranscript(messages, JSON.stringify(messages).length).replaced).toBe(0);
  });
});

describe('compactTranscript past the tool results', () => {
  const longTurn = (role: 'user' | 'assistant', label: string): ChatMessage => ({
    role,
    content: `${label} ${'é'.repeat(2_000)}`,
  });

  it('counts UTF-8 bytes, so text of multi-byte characters compacts sooner than its character count says', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'be brief' },
      longTurn('user', 'old'),
      longTurn('assistant', 'reply'),
      { role: 'user', content: 'now?' },
    ];
    const characters = JSON.stringify(messages).length;
    // Below the byte size, above the character count: only bytes see that it is too large.
    expect(compactTranscript(messages, characters + 10).replaced).toBeGreaterThan(0);
  });

  it('then omits the oldest user and assistant turns, keeping the system prompt and the current turn', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'be brief' },
      longTurn('user', 'first'),
      longTurn('assistant', 'first reply'),
      longTurn('user', 'second'),
      longTurn('assistant', 'second reply'),
      longTurn('user', 'current'),
    ];
    const limit = JSON.stringify(messages).length; // characters: about half the bytes
    expect(compactTranscript(messages, limit).replaced).toBeGreaterThan(0);
    expect(Buffer.byteLength(JSON.stringify(messages))).toBeLessThanOrEqual(limit);
    expect(messages[0]).toEqual({ role: 'system', content: 'be brief' });
    expect(messages[1].content).toBe(OMITTED_TURN);
    expect(messages[5].content).toMatch(/^current /);
  });

  it('keeps a tool call paired with its result when it omits the call', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 's' },
      { role: 'user', content: 'x'.repeat(5_000) },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 't', arguments: JSON.stringify({ q: 'y'.repeat(5_000) }) } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'z'.repeat(5_000) },
      { role: 'tool', tool_call_id: 'c1', content: 'newest' },
      { role: 'user', content: 'current' },
    ];
    const { bytes } = compactTranscript(messages, 1_000);
    // The size it reports is the one the transcript has, so the workflow need not serialize it again.
    expect(bytes).toBe(Buffer.byteLength(JSON.stringify(messages)));
    const call = messages[2] as Extract<ChatMessage, { role: 'assistant' }>;
    expect(call.tool_calls).toEqual([
      { id: 'c1', type: 'function', function: { name: 't', arguments: '{"omitted":true}' } },
    ]);
    expect(messages[3]).toEqual({ role: 'tool', tool_call_id: 'c1', content: OMITTED_RESULT });
    expect(Buffer.byteLength(JSON.stringify(messages))).toBeLessThanOrEqual(1_000);
  });
});
