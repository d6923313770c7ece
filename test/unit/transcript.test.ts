import type { ChatMessage } from '../../src/types';
import { compactTranscript, OMITTED_RESULT } from '../../workflows/transcript';

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

describe('compactTranscript', () => {
  it('leaves a transcript within the limit untouched', () => {
    const messages = transcript(3);
    const before = JSON.stringify(messages);
    expect(compactTranscript(messages, before.length)).toBe(0);
    expect(JSON.stringify(messages)).toBe(before);
  });

  it('omits the oldest tool results first, just enough to fit', () => {
    const messages = transcript(5);
    const limit = JSON.stringify(messages).length - 1_500;
    expect(compactTranscript(messages, limit)).toBe(2);
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
    expect(compactTranscript(messages, 10)).toBe(2);
    expect(JSON.parse(contents(messages)[2]).label).toBe('r3');
  });

  it('does not count results it omitted before', () => {
    const messages = transcript(4);
    compactTranscript(messages, JSON.stringify(messages).length - 500);
    expect(compactTranscript(messages, JSON.stringify(messages).length)).toBe(0);
  });
});
