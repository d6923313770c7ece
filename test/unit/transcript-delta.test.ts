/**
 * Transcripts sent by reference, without a server: the hash, the deltas a run sends, their replay
 * from history, and the stretch of a conversation a summary replaces.
 */
import { hashText } from '../../src/hash';
import { SUMMARY_HEADING, summaryMessage } from '../../src/summaries';
import {
  applyParts,
  DeltaEncoder,
  diffParts,
  Fingerprints,
  TranscriptMismatch,
  type TranscriptDelta,
  type TranscriptPart,
} from '../../src/transcript-delta';
import { TranscriptReplay } from '../../src/transcript-replay';
import type { ChatMessage } from '../../src/types';
import { answer, calls, recorded, result, system, user } from '../support/messages';
import { serializedBytes } from '../../src/validation';
import { stretchToSummarise } from '../../workflows/context-window';

/** Checks that `parts` make `messages` from `base`, and that the kept ones are the base's very objects. */
function roundTrip(base: ChatMessage[], messages: ChatMessage[]): TranscriptPart[] {
  const parts = diffParts(base, messages);
  const rebuilt = applyParts(base, parts);
  expect(rebuilt).toEqual(messages);
  rebuilt.forEach((message, index) => expect(message).toBe(messages[index]));
  // The worker applies them to what it decoded: the same messages in other objects.
  expect(applyParts(recorded(base), recorded(parts))).toEqual(messages);
  return parts;
}

describe('hashText', () => {
  it('is 16 hex digits, the same for the same text', () => {
    expect(hashText('')).toMatch(/^[0-9a-f]{16}$/);
    expect(hashText('hello world')).toMatch(/^[0-9a-f]{16}$/);
    expect(hashText('hello world')).toBe(hashText(['hello', 'world'].join(' ')));
  });

  it('does not change between versions: a workflow and a worker of different builds compare its values', () => {
    expect({ empty: hashText(''), abc: hashText('abc'), astral: hashText('漢字😀') }).toEqual({
      empty: '1aee8d83488bdcb8',
      abc: '8f6f15349bd09958',
      astral: 'c6ecab3a28c715e4',
    });
  });

  it('tells apart texts that differ in one astral or CJK character', () => {
    const texts = [
      '😀',
      '😁',
      '🙂',
      '𝒜',
      '𠀀',
      '𠀁',
      '漢字',
      '漢子',
      '汉字',
      '字漢',
      '\ud83d', // a lone high surrogate
      '\ude00', // a lone low surrogate
      '\ude00\ud83d', // the pair's units in the wrong order
      'a',
      '\u0161', // same low byte as 'a'
      '\u6100', // 'a' in the high byte
    ];
    expect(new Set(texts.map(hashText)).size).toBe(texts.length);
    expect(hashText('x😀y')).not.toBe(hashText('x😁y'));
    expect(hashText('漢'.repeat(10_000))).not.toBe(hashText('漢'.repeat(9_999) + '字'));
  });

  it('gives no collision among many similar texts', () => {
    const hashes = new Set<string>();
    for (let index = 0; index < 20_000; index++) hashes.add(hashText(`message ${index} 会話`));
    expect(hashes.size).toBe(20_000);
  });
});

describe('diffParts and applyParts', () => {
  const base = [system('be brief'), user('find order 7'), calls('c1'), result('c1'), answer('found it')];

  it('keep the base and add what was appended', () => {
    const added = [user('and order 8?'), calls('c2'), result('c2')];
    const parts = roundTrip(base, [...base, ...added]);
    expect(parts).toEqual([{ keep: [0, 5] }, { add: added }]);
  });

  it('merge a whole unchanged transcript into one keep', () => {
    expect(roundTrip(base, [...base])).toEqual([{ keep: [0, 5] }]);
    const long = Array.from({ length: 500 }, (_, index) => user(`m${index}`));
    const parts = roundTrip(long, [...long, user('new')]);
    expect(parts).toEqual([{ keep: [0, 500] }, { add: [user('new')] }]);
  });

  it('add a message replaced in place by a new object, and keep the runs either side of it', () => {
    const messages = [...base];
    messages[3] = { ...(base[3] as Extract<ChatMessage, { role: 'tool' }>), content: '[omitted]' };
    expect(roundTrip(base, messages)).toEqual([{ keep: [0, 3] }, { add: [messages[3]] }, { keep: [4, 5] }]);
  });

  it('add a new object even when its content equals the base message it replaces (identity, not equality)', () => {
    const messages = [...base];
    messages[1] = { ...base[1] };
    expect(roundTrip(base, messages)).toEqual([{ keep: [0, 1] }, { add: [base[1]] }, { keep: [2, 5] }]);
  });

  it('replace a middle stretch by one summary message', () => {
    const long = [
      system('be brief'),
      user('task'),
      calls('c1'),
      result('c1'),
      calls('c2'),
      result('c2'),
      calls('c3'),
      result('c3'),
      answer('done'),
    ];
    const summary = summaryMessage('looked up c1 and c2');
    const messages = [...long.slice(0, 2), summary, ...long.slice(6), user('next')];
    expect(roundTrip(long, messages)).toEqual([
      { keep: [0, 2] },
      { add: [summary] },
      { keep: [6, 9] },
      { add: [user('next')] },
    ]);
  });

  it('add everything to an empty base, and make an empty transcript from nothing', () => {
    expect(roundTrip([], base)).toEqual([{ add: base }]);
    expect(roundTrip(base, [])).toEqual([]);
    expect(roundTrip([], [])).toEqual([]);
    expect(applyParts([], [{ add: base }])).toEqual(base);
  });

  it('keep reordered messages by position', () => {
    const [a, b, c, d, e] = base;
    expect(roundTrip(base, [c, d, a, b, e])).toEqual([{ keep: [2, 4] }, { keep: [0, 2] }, { keep: [4, 5] }]);
    expect(roundTrip(base, [e, d, c, b, a])).toHaveLength(5);
    expect(roundTrip(base, [a, c, e])).toEqual([{ keep: [0, 1] }, { keep: [2, 3] }, { keep: [4, 5] }]);
  });

  it('rebuild a transcript holding the same object twice', () => {
    const nudge = user('Your last reply was empty.');
    const withTwice = [system('s'), nudge, answer(''), nudge];
    roundTrip(withTwice, [...withTwice, answer('now')]);
    roundTrip([], withTwice);
  });

  it('throw TranscriptMismatch for keeps outside the base', () => {
    const three = base.slice(0, 3);
    for (const keep of [
      [0, 4],
      [3, 4],
      [-1, 1],
      [2, 1],
      [0.5, 2],
      [0, Number.NaN],
    ] as [number, number][]) {
      expect(() => applyParts(three, [{ keep }])).toThrow(TranscriptMismatch);
    }
    expect(() => applyParts([], [{ keep: [0, 1] }])).toThrow(/outside a base of 0 messages/);
    const error = (() => {
      try {
        applyParts(three, [{ add: [user('x')] }, { keep: [1, 9] }]);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(TranscriptMismatch);
    expect(error).toBeInstanceOf(Error);
    // An empty keep at the end is inside the base.
    expect(applyParts(three, [{ keep: [3, 3] }])).toEqual([]);
  });
});

describe('Fingerprints', () => {
  const transcript = () => [system('be brief'), user('find 漢字 😀'), calls('c1'), result('c1', '{"ok":true}')];

  it('are equal for equal content in new objects', () => {
    const fingerprints = new Fingerprints();
    const first = transcript();
    expect(new Fingerprints().of(transcript())).toBe(fingerprints.of(first));
    expect(fingerprints.of(recorded(first))).toBe(fingerprints.of(first));
    expect(fingerprints.of(structuredClone(first))).toBe(fingerprints.of(first));
    // SHA-256 of nothing: the empty transcript hashes no message hashes.
    expect(fingerprints.of([])).toBe('0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(fingerprints.of(first)).toMatch(/^4:[0-9a-f]{64}$/);
  });

  it('survive the trip through a payload (JSON, then UTF-8), lone surrogates included', () => {
    const messages = [...transcript(), result('c2', 'cut in a pair: \ud83d'), user('\ude00 and after')];
    const bytes = new TextEncoder().encode(JSON.stringify(messages));
    const decoded = JSON.parse(new TextDecoder().decode(bytes)) as ChatMessage[];
    expect(new Fingerprints().of(decoded)).toBe(new Fingerprints().of(messages));
  });

  it('differ when any message content, role, order or count differs', () => {
    const fingerprints = new Fingerprints();
    const original = fingerprints.of(transcript());
    const variants: ChatMessage[][] = [];
    const edit = (change: (messages: ChatMessage[]) => void) => {
      const messages = transcript();
      change(messages);
      variants.push(messages);
    };
    edit((m) => (m[1] = user('find 漢字 😁')));
    edit((m) => (m[1] = system('find 漢字 😀')));
    edit((m) => (m[0] = user('be brief')));
    edit((m) => (m[3] = result('c9', '{"ok":true}')));
    edit((m) => (m[3] = result('c1', '{"ok":false}')));
    edit((m) => (m[2] = calls('c2')));
    edit((m) => (m[2] = answer('')));
    edit((m) => m.reverse());
    edit((m) => ([m[0], m[1]] = [m[1], m[0]]));
    edit((m) => m.pop());
    edit((m) => m.push(user('')));
    edit((m) => m.unshift(system('')));
    const all = [original, ...variants.map((messages) => fingerprints.of(messages))];
    expect(new Set(all).size).toBe(all.length);
  });

  it('do not confuse message boundaries', () => {
    const fingerprints = new Fingerprints();
    expect(fingerprints.of([user('ab'), user('c')])).not.toBe(fingerprints.of([user('a'), user('bc')]));
    expect(fingerprints.of([user('a'), user('a')])).not.toBe(fingerprints.of([user('a')]));
  });
});

describe('TranscriptReplay', () => {
  /** A run's model calls: each transcript, and the input its call recorded. */
  function run(carried: ChatMessage[] = []) {
    const sender = new DeltaEncoder(carried);
    const messages = [...carried];
    const calls: { transcript: ChatMessage[]; input: { transcript: TranscriptDelta } }[] = [];
    return {
      messages,
      calls,
      call() {
        calls.push({ transcript: recorded(messages), input: recorded({ transcript: sender.next(messages) }) });
      },
    };
  }

  function conversation(r: ReturnType<typeof run>) {
    r.messages.push(system('be brief'), user('find order 7'));
    r.call();
    r.messages.push(calls('c1'), result('c1'));
    r.call();
    r.messages.push(calls('c2', 'c3'), result('c2'), result('c3'));
    r.call();
    // Compaction: a tool result replaced in place.
    r.messages[3] = { role: 'tool', tool_call_id: 'c1', content: '[omitted]' };
    r.messages.push(answer('order 7 is on its way'), user('thanks'));
    r.call();
    // A summary replaces the middle.
    r.messages.splice(2, 5, summaryMessage('looked up c1, c2, c3'));
    r.call();
    r.messages.push(answer('you are welcome'));
    r.call();
  }

  it('rebuilds every call of a chain of deltas, in history order', () => {
    const r = run();
    conversation(r);
    expect(r.calls[0].input.transcript.base).toBeUndefined();
    expect(r.calls[4].input.transcript.parts).toContainEqual({ add: [summaryMessage('looked up c1, c2, c3')] });
    const replay = new TranscriptReplay();
    for (const call of r.calls) {
      const messages = replay.messagesOf(call.input);
      expect(messages).toEqual(call.transcript);
      expect(replay.fingerprints.of(messages!)).toBe(call.input.transcript.fingerprint);
    }
    for (const call of r.calls) expect(replay.find(call.input.transcript.fingerprint)).toEqual(call.transcript);
  });

  it('rebuilds a continued run whose first delta is based on the transcript it carried', () => {
    const carried = recorded([system('be brief'), user('task'), calls('c1'), result('c1')]);
    const r = run(carried);
    r.messages.push(answer('done with c1'), user('go on'));
    r.call();
    r.messages.push(calls('c2'), result('c2'));
    r.call();
    expect(r.calls[0].input.transcript.base).toBe(new Fingerprints().of(carried));
    expect(r.calls[0].input.transcript.parts[0]).toEqual({ keep: [0, 4] });

    const withoutCarried = new TranscriptReplay();
    expect(withoutCarried.messagesOf(r.calls[0].input)).toBeUndefined();

    const replay = new TranscriptReplay();
    replay.carried(recorded(carried));
    expect(replay.find(new Fingerprints().of(carried))).toEqual(carried);
    for (const call of r.calls) expect(replay.messagesOf(call.input)).toEqual(call.transcript);
  });

  it('returns undefined for an unknown base, or an input carrying no transcript, and remembers nothing', () => {
    const r = run();
    conversation(r);
    const replay = new TranscriptReplay();
    const later = r.calls[2].input;
    expect(replay.messagesOf(later)).toBeUndefined();
    expect(replay.find(later.transcript.fingerprint)).toBeUndefined();
    expect(replay.messagesOf({})).toBeUndefined();
    expect(replay.messagesOf({ transcript: { base: '3:0000000000000000', parts: [], fingerprint: 'x' } })).toBe(
      undefined,
    );
  });

  it('returns a whole transcript as it is', () => {
    const messages = [system('s'), user('u')];
    expect(new TranscriptReplay().messagesOf({ messages })).toBe(messages);
  });

  it('throws TranscriptMismatch when a delta does not fit its base', () => {
    const r = run();
    conversation(r);
    const replay = new TranscriptReplay();
    replay.messagesOf(r.calls[0].input);
    const broken = recorded(r.calls[1].input);
    broken.transcript.parts = [{ keep: [0, 3] }];
    expect(() => replay.messagesOf(broken)).toThrow(TranscriptMismatch);
  });
});

describe('stretchToSummarise', () => {
  const big = (label: string) => `${label}: ${'x'.repeat(1_000)}`;
  const bytes = (messages: ChatMessage[]) => messages.reduce((sum, message) => sum + serializedBytes(message), 0);

  /** A task run: the prompt, the task (turnStart 1), `steps` tool calls with big results, the answer. */
  function taskRun(steps: number, last: ChatMessage = answer('all done')): ChatMessage[] {
    const messages = [system('be brief'), user('the task')];
    for (let step = 1; step <= steps; step++) messages.push(calls(`c${step}`), result(`c${step}`, big(`r${step}`)));
    messages.push(last);
    return messages;
  }

  /** What must hold of any stretch. */
  function checkStretch(messages: ChatMessage[], turnStart: number, stretch: { from: number; to: number }) {
    const { from, to } = stretch;
    const lastAnswer = messages.map((message) => message.role).lastIndexOf('assistant');
    expect(to - from).toBeGreaterThanOrEqual(2);
    expect(to).toBeLessThanOrEqual(lastAnswer === -1 ? messages.length : lastAnswer);
    expect(turnStart >= from && turnStart < to).toBe(false);
    // Every leading system prompt that is not a summary comes before the stretch.
    const pinned = messages.findIndex((m) => m.role !== 'system' || m.content.startsWith(SUMMARY_HEADING));
    expect(from).toBeGreaterThanOrEqual(pinned === -1 ? messages.length : pinned);
    // Tool calls and their results are on the same side of both edges.
    const callIndex = new Map<string, number>();
    messages.forEach((message, index) => {
      if (message.role === 'assistant') for (const call of message.tool_calls ?? []) callIndex.set(call.id, index);
    });
    messages.forEach((message, index) => {
      if (message.role !== 'tool') return;
      const caller = callIndex.get(message.tool_call_id)!;
      const inside = (i: number) => from <= i && i < to;
      expect([message.tool_call_id, inside(caller)]).toEqual([message.tool_call_id, inside(index)]);
    });
  }

  it('never splits a call from its results, nor reaches the last answer, for any kept budget', () => {
    const messages = [
      system('be brief'),
      system('What you remember about this user: likes tea'),
      user('the task'),
      calls('a1', 'a2'),
      result('a1', big('a1')),
      result('a2', big('a2')),
      answer('thinking'),
      calls('b1'),
      result('b1', big('b1')),
      calls('d1', 'd2', 'd3'),
      result('d1', big('d1')),
      result('d2', 'small'),
      result('d3', big('d3')),
      calls('e1', 'e2'),
      result('e1', big('e1')),
      result('e2', big('e2')),
    ];
    let found = 0;
    for (let keptBytes = 0; keptBytes <= bytes(messages) + 10; keptBytes += 37) {
      for (const turnStart of [2, messages.length]) {
        const stretch = stretchToSummarise(messages, turnStart, keptBytes);
        if (!stretch) continue;
        found++;
        checkStretch(messages, turnStart, stretch);
        // The model's last answer (a call) and its results stay.
        expect(stretch.to).toBeLessThanOrEqual(13);
      }
    }
    expect(found).toBeGreaterThan(0);
  });

  it('moves the end back to the call when the kept budget ends among its results', () => {
    const messages = taskRun(0);
    messages.splice(
      2,
      1,
      calls('c1'),
      result('c1', big('r1')),
      calls('c2', 'c3'),
      result('c2', big('r2')),
      result('c3', 'r3'),
      answer('done'),
    );
    // [0 system, 1 task, 2 call c1, 3 r1, 4 call c2+c3, 5 r2, 6 r3, 7 answer]: the budget holds r3 only.
    const stretch = stretchToSummarise(messages, 1, serializedBytes(messages[6]) + 1);
    expect(stretch).toEqual({ from: 2, to: 4 });
  });

  it('keeps the current task message when it is older than the stretch', () => {
    const messages = taskRun(5);
    const stretch = stretchToSummarise(messages, 1, 0);
    expect(stretch).toEqual({ from: 2, to: messages.length - 1 });
  });

  it('keeps the model last answer however large, and its tool results', () => {
    const huge = answer(big('final').repeat(50));
    const messages = taskRun(4, huge);
    expect(stretchToSummarise(messages, 1, 0)).toEqual({ from: 2, to: messages.length - 1 });
    const calling = [...taskRun(4).slice(0, -1), calls('z1', 'z2'), result('z1', big('z1')), result('z2', big('z2'))];
    const stretch = stretchToSummarise(calling, 1, 0)!;
    expect(stretch.to).toBe(calling.length - 3);
    checkStretch(calling, 1, stretch);
  });

  it('keeps what fits the kept budget, summarising only older messages', () => {
    const messages = taskRun(6);
    // The budget holds the last two steps (four messages), not three.
    const lastTwo = bytes(messages.slice(-5, -1));
    const stretch = stretchToSummarise(messages, 1, lastTwo + 10)!;
    expect(stretch).toEqual({ from: 2, to: messages.length - 5 });
    expect(bytes(messages.slice(stretch.to, -1))).toBeLessThanOrEqual(lastTwo + 10);
  });

  it('never starts inside the pinned system prompts', () => {
    // A session: earlier turns, then the current one (turnStart 6), small enough to be kept whole.
    const messages = [
      system('be brief'),
      system('What you remember about this user: likes tea'),
      user(big('u1')),
      answer(big('a1')),
      user(big('u2')),
      answer(big('a2')),
      user('the current question'),
      calls('c1'),
      result('c1', 'short'),
      answer('short answer'),
    ];
    const stretch = stretchToSummarise(messages, 6, bytes(messages.slice(6, 9)) + 1);
    expect(stretch).toEqual({ from: 2, to: 6 });
    // However little may be kept.
    expect(stretchToSummarise(messages, messages.length, 0)).toEqual({ from: 2, to: 9 });
    expect(stretchToSummarise([system('a'), system('b'), system('c'), answer('x')], 4, 0)).toBeUndefined();
  });

  it('includes a previous summary in the stretch', () => {
    const messages = [
      system('be brief'),
      summaryMessage('what happened before'),
      user(big('u1')),
      answer(big('a1')),
      user('the current question'),
      answer('short answer'),
    ];
    // The budget keeps the current turn's question.
    expect(stretchToSummarise(messages, 4, serializedBytes(messages[4]) + 1)).toEqual({ from: 1, to: 4 });
    // A budget that keeps nothing summarises within the current turn only, here too little.
    expect(stretchToSummarise(messages, 4, 0)).toBeUndefined();
  });

  it('summarises a summary again after it replaced a stretch', () => {
    const messages = taskRun(6);
    const first = stretchToSummarise(messages, 1, 0)!;
    messages.splice(first.from, first.to - first.from, summaryMessage('steps 1 to 6'));
    // [system, task, summary, answer]: too little before the answer.
    expect(stretchToSummarise(messages, 1, 0)).toBeUndefined();
    messages.splice(3, 0, calls('c7'), result('c7', big('r7')));
    expect(stretchToSummarise(messages, 1, 0)).toEqual({ from: 2, to: 5 });
    // In a later turn the old task message and the summary after it are history, summarised together.
    messages.push(user('next question'), answer('ok'));
    expect(stretchToSummarise(messages, 6, serializedBytes(messages[6]) + 1)).toEqual({ from: 1, to: 6 });
  });

  it('returns undefined when fewer than 2 messages could be summarised', () => {
    expect(stretchToSummarise([], 0, 0)).toBeUndefined();
    expect(stretchToSummarise([system('s'), user('u')], 1, 0)).toBeUndefined();
    expect(stretchToSummarise([system('s'), user('u'), answer('a')], 1, 0)).toBeUndefined();
    expect(stretchToSummarise([system('s'), user('u1'), answer('a1'), user('u2'), answer('a2')], 3, 0)).toBe(undefined);
    // One step before the answer is two messages: enough.
    expect(stretchToSummarise(taskRun(1), 1, 0)).toEqual({ from: 2, to: 4 });
    // Everything fits the kept budget: nothing to summarise.
    const messages = taskRun(5);
    expect(stretchToSummarise(messages, 1, bytes(messages))).toBeUndefined();
  });
});
